"""Pages that keep a client's record: a form per section (full page, or the fragment htmx
swaps into the record), the history of changes and the contact log. Thin: the write policy
and the services (hub.caserecord) decide and write; the policy layer (hub.disclosure) reads.

A refused write answers 404 where the viewer may not see the client and 403 otherwise; both
are logged by require_write. A save based on a stale version answers 409 with both versions."""

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from hub.accounts.names import names_for
from hub.accounts.sessions import Viewer
from hub.caserecord.contacts import log_contact
from hub.caserecord.forms import FormErrors
from hub.caserecord.pages import (
    CONTACT_FIELDS,
    SECTION_FIELDS,
    HistoryPage,
    SectionFormPage,
    field_views,
    section_values,
)
from hub.caserecord.sections import SECTION_CATEGORY, current_version, save_section
from hub.caserecord.writing import StaleVersion, WriteRefused, may_write, require_write
from hub.clients.pages import WITHHELD_WORDS, SectionView
from hub.clients.purposes import record_purpose
from hub.clients.web import ClientReader, PersonId, RecordPurpose, not_found, read_record
from hub.db import utcnow
from hub.disclosure.history import disclose_history
from hub.disclosure.policy import PersonNotFound
from hub.vocabulary import Action, Category, RecordSection
from hub.web.dependencies import DB, log_actor, require
from hub.web.params import Count
from hub.web.templating import is_htmx, render

router = APIRouter(include_in_schema=False)

RecordWriter = Annotated[Viewer, Depends(require(Action.record_write))]
FormText = Annotated[str, Form(max_length=2000)]


def refused(exc: WriteRefused) -> HTTPException:
    """The answer to a refused write (already logged): 404 if the client is unseen."""
    if exc.not_found:
        return not_found()
    return HTTPException(status.HTTP_403_FORBIDDEN, "You may not keep this part of the record.")


def _form_page(
    db: Session,
    request: Request,
    viewer: Viewer,
    person_id: int,
    section: RecordSection,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
) -> SectionFormPage:
    """The form, with the section as stored read (and logged) through the policy layer."""
    category = SECTION_CATEGORY[section]
    record = read_record(db, viewer, person_id, record_purpose(viewer), request, {category})
    current = SectionView.of(record, category)
    shown = values if values is not None else section_values(section, current)
    return SectionFormPage(
        title=f"Keep the record: {section.value}",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        person_id=person_id,
        section=section,
        category=category,
        version=current_version(db, person_id, section),
        current=current,
        fields=field_views(SECTION_FIELDS[section], shown, errors or {}),
        errors=dict(errors or {}),
        notice=record.notice,
        standalone=is_htmx(request),
    )


def _form_response(request: Request, page: SectionFormPage, code: int = 200) -> HTMLResponse:
    # htmx swaps only 2xx answers: the fragment carries its errors or conflict itself.
    if page.standalone:
        return render(request, "caserecord/_section_form.html", page)
    return render(request, "caserecord/section_form.html", page, code)


@router.get("/clients/{person_id}/record/{section}", response_class=HTMLResponse)
def section_form(
    request: Request, db: DB, viewer: RecordWriter, person_id: PersonId, section: RecordSection
) -> HTMLResponse:
    try:
        require_write(db, viewer, person_id, SECTION_CATEGORY[section], log_actor(request, viewer))
    except WriteRefused as exc:
        raise refused(exc) from None
    return _form_response(request, _form_page(db, request, viewer, person_id, section))


@router.post("/clients/{person_id}/record/{section}", response_class=HTMLResponse)
def save_section_form(
    request: Request,
    db: DB,
    viewer: RecordWriter,
    person_id: PersonId,
    section: RecordSection,
    version: Annotated[Count, Form()],
    phone: FormText = "",
    staying_at: FormText = "",
    living_situation: FormText = "",
    waitlist: FormText = "",
    waitlist_since: FormText = "",
    mental_health: FormText = "",
    physical_health: FormText = "",
    program_status: FormText = "",
    exit_reason: FormText = "",
    effective_on: FormText = "",
    reason: FormText = "",
) -> Response:
    sent = {
        "phone": phone,
        "staying_at": staying_at,
        "living_situation": living_situation,
        "waitlist": waitlist,
        "waitlist_since": waitlist_since,
        "mental_health": mental_health,
        "physical_health": physical_health,
        "program_status": program_status,
        "exit_reason": exit_reason,
        "effective_on": effective_on,
        "reason": reason,
    }
    raw = {spec.name: sent[spec.name] for spec in SECTION_FIELDS[section]}
    actor = log_actor(request, viewer)
    try:
        save_section(db, viewer, actor, person_id, section, raw, based_on=version)
    except WriteRefused as exc:
        raise refused(exc) from None
    except FormErrors as exc:
        page = _form_page(db, request, viewer, person_id, section, raw, exc.errors)
        page.version = version  # still based on what the person saw
        return _form_response(request, page, status.HTTP_422_UNPROCESSABLE_CONTENT)
    except StaleVersion:
        # Theirs (stored, read through the policy) and yours (sent); nothing was overwritten.
        page = _form_page(db, request, viewer, person_id, section)
        page.conflict = True
        page.yours = field_views(SECTION_FIELDS[section], raw, {})
        return _form_response(request, page, status.HTTP_409_CONFLICT)
    if is_htmx(request):
        page = _form_page(db, request, viewer, person_id, section)
        page.messages.append("Saved.")
        return _form_response(request, page)
    return RedirectResponse(
        f"/clients/{person_id}#section-{SECTION_CATEGORY[section].value}",
        status_code=status.HTTP_303_SEE_OTHER,
    )


# --- history and contacts ---------------------------------------------------------------------


def _history_page(
    db: Session,
    request: Request,
    viewer: Viewer,
    person_id: int,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
) -> HistoryPage:
    try:
        history = disclose_history(
            db, viewer, person_id, record_purpose(viewer), log_actor(request, viewer)
        )
    except PersonNotFound:
        raise not_found() from None
    can_log = may_write(db, viewer, person_id, Category.engagement)
    db.rollback()
    default = {"contact_on": utcnow().date().isoformat()}
    return HistoryPage(
        title="Record history and contacts",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        person_id=person_id,
        changes=list(history.changes),
        contacts=list(history.contacts),
        withheld=[(c, WITHHELD_WORDS[r]) for c, r in history.withheld.items()],
        notice=history.notice,
        can_log_contact=can_log,
        fields=field_views(CONTACT_FIELDS, values or default, errors or {}),
        errors=dict(errors or {}),
        standalone=is_htmx(request),
        staff=names_for(
            db,
            [c.changed_by_id for c in history.changes]
            + [c.recorded_by_id for c in history.contacts],
            [],
        ),
    )


@router.get("/clients/{person_id}/history", response_class=HTMLResponse)
def history_page(
    request: Request, db: DB, viewer: ClientReader, purpose: RecordPurpose, person_id: PersonId
) -> HTMLResponse:
    return render(request, "caserecord/history.html", _history_page(db, request, viewer, person_id))


@router.get("/clients/{person_id}/contacts", response_class=HTMLResponse)
def contacts_page(
    request: Request, db: DB, viewer: ClientReader, purpose: RecordPurpose, person_id: PersonId
) -> HTMLResponse:
    page = _history_page(db, request, viewer, person_id)
    page.changes = []
    template = "caserecord/_contacts.html" if page.standalone else "caserecord/contacts.html"
    return render(request, template, page)


@router.post("/clients/{person_id}/contacts", response_class=HTMLResponse)
def add_contact(
    request: Request,
    db: DB,
    viewer: RecordWriter,
    person_id: PersonId,
    contact_on: FormText = "",
    kind: FormText = "",
    place_kind: FormText = "",
    note: FormText = "",
    note_category: FormText = "",
) -> Response:
    raw = {
        "contact_on": contact_on,
        "kind": kind,
        "place_kind": place_kind,
        "note": note,
        "note_category": note_category,
    }
    errors: dict[str, str] = {}
    try:
        log_contact(db, viewer, log_actor(request, viewer), person_id, raw)
    except WriteRefused as exc:
        raise refused(exc) from None
    except FormErrors as exc:
        errors = exc.errors
    if not errors and not is_htmx(request):
        return RedirectResponse(
            f"/clients/{person_id}/contacts", status_code=status.HTTP_303_SEE_OTHER
        )
    page = _history_page(db, request, viewer, person_id, raw if errors else None, errors)
    page.changes = []
    if page.standalone:
        return render(request, "caserecord/_contacts.html", page)
    return render(request, "caserecord/contacts.html", page, status.HTTP_422_UNPROCESSABLE_CONTENT)
