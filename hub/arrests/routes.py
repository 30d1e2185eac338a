"""Arrest pages: any officer or sergeant reports a participant's arrest (the answer is the
same whether or not anyone matched); case management reconciles the reports no participant
surely matched."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.accounts.sessions import Viewer
from hub.arrests import services
from hub.arrests.forms import ArrestForm, details_from_form
from hub.arrests.pages import ArrestFormPage, ReconcilePage, ReconcileRow
from hub.arrests.services import ArrestRefused
from hub.disclosure.identities import disclose_identities
from hub.referrals.rules import current_rules
from hub.vocabulary import Action, Purpose
from hub.web.dependencies import DB, log_actor, refused_as_not_found, require
from hub.web.params import RecordNumber
from hub.web.templating import render

router = APIRouter()

Reporter = Annotated[Viewer, Depends(require(Action.arrests_record))]
Reconciler = Annotated[Viewer, Depends(require(Action.arrests_reconcile))]
RECONCILE_PURPOSE = Purpose.case_management


@router.get("/arrests/new", response_class=HTMLResponse)
def arrest_form(request: Request, viewer: Reporter) -> Response:
    page = ArrestFormPage(title="Report an arrest", viewer=viewer, csrf_token=viewer.csrf_token)
    return render(request, "arrests/new.html", page)


@router.post("/arrests/new", response_class=HTMLResponse)
def report_arrest(
    request: Request, db: DB, viewer: Reporter, form: Annotated[ArrestForm, Form()]
) -> Response:
    """The same page and words whether or not the person is on file (issue 12)."""
    rules = current_rules(db)
    page = ArrestFormPage(
        title="Report an arrest", viewer=viewer, csrf_token=viewer.csrf_token, form=form
    )
    try:
        details = details_from_form(form, rules)
        page.received = services.record_arrest(
            db, viewer, details, log_actor(request, viewer), rules=rules
        )
    except ArrestRefused as refused:
        db.rollback()
        page.problems = refused.problems
        return render(request, "arrests/new.html", page, status.HTTP_422_UNPROCESSABLE_CONTENT)
    page.form = ArrestForm()
    return render(request, "arrests/new.html", page, status.HTTP_201_CREATED)


def _reconcile_page(request: Request, db: DB, viewer: Viewer, **extra: Any) -> ReconcilePage:
    reports = services.arrests_to_reconcile(db, log_actor(request, viewer))
    known = disclose_identities(
        db,
        viewer,
        sorted({pid for r in reports for pid in r.candidate_ids}),
        RECONCILE_PURPOSE,
        log_actor(request, viewer),
    )
    return ReconcilePage(
        title="Arrests to reconcile",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        rows=[
            ReconcileRow(r, [(pid, known.identity(pid)) for pid in r.candidate_ids])
            for r in reports
        ],
        **extra,
    )


@router.get("/arrests/to-reconcile", response_class=HTMLResponse)
def to_reconcile(request: Request, db: DB, viewer: Reconciler) -> Response:
    """Reports no participant surely matched, with the persons on file each may be."""
    return render(request, "arrests/reconcile.html", _reconcile_page(request, db, viewer))


@router.post("/arrests/{arrest_report_id}/reconcile", response_class=HTMLResponse)
def reconcile(
    request: Request,
    db: DB,
    viewer: Reconciler,
    arrest_report_id: RecordNumber,
    person_id: Annotated[RecordNumber | None, Form()] = None,
) -> Response:
    """Links the report to one of its candidates (a charging matter opens), or, without a
    person, records that it names no participant."""
    try:
        services.reconcile_arrest(
            db, viewer, arrest_report_id, person_id, log_actor(request, viewer)
        )
    except ArrestRefused as refused:
        raise refused_as_not_found(
            request,
            db,
            viewer,
            Action.arrests_reconcile,
            str(refused),
            arrest_report_id=arrest_report_id,
        ) from refused
    return RedirectResponse("/arrests/to-reconcile", status.HTTP_303_SEE_OTHER)
