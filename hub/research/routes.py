"""Research pages: protocols (record, confirm), the de-identified export of a protocol in
force, and the HMIS CSV export. Thin: hub.research.services, .exports and .hmis decide, read
through the policy layer and log; these parse, call one function and render or download."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.consents.services import agencies_by_name
from hub.db import utcnow
from hub.research.exports import ExportRefused, ExportRequest, make_research_export
from hub.research.hmis import HmisRequest, make_hmis_export
from hub.research.pages import HmisPage, ProtocolsPage, ProtocolView
from hub.research.services import (
    ProtocolForm,
    ResearchError,
    confirm_protocol,
    list_protocols,
    record_protocol,
)
from hub.vocabulary import Action
from hub.web.dependencies import DB, log_actor, require
from hub.web.params import RecordNumber
from hub.web.templating import render

router = APIRouter(prefix="/research", include_in_schema=False)  # pages, not API

Recorder = Annotated[Viewer, Depends(require(Action.research_protocols))]
Confirmer = Annotated[Viewer, Depends(require(Action.research_protocols_confirm))]
Exporter = Annotated[Viewer, Depends(require(Action.research_export))]
HmisExporter = Annotated[Viewer, Depends(require(Action.hmis_export))]
Short = Annotated[str, Form(max_length=300)]
Long = Annotated[str, Form(max_length=1000)]
Choices = Annotated[list[str] | None, Form(max_length=50)]


def _protocols(
    request: Request, db: Session, viewer: Viewer, code: int = 200, **fields: Any
) -> HTMLResponse:
    today = utcnow().date()
    page = ProtocolsPage(
        title="Research protocols",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        protocols=[ProtocolView.of(p, viewer.user_id, today) for p in list_protocols(db)],
        **fields,
    )
    return render(request, "research/protocols.html", page, code)


def _field_errors(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in e['loc']) or 'form'}: {e['msg']}" for e in exc.errors()]


@router.get("/protocols", response_class=HTMLResponse)
def protocols(request: Request, db: DB, viewer: Recorder) -> HTMLResponse:
    return _protocols(request, db, viewer)


@router.post("/protocols", response_class=HTMLResponse)
def record(
    request: Request,
    db: DB,
    viewer: Recorder,
    title: Short = "",
    irb_number: Short = "",
    data_use_agreement: Short = "",
    recipient_name: Short = "",
    recipient_organisation: Short = "",
    approved_from: Annotated[str, Form(max_length=10)] = "",
    expires_on: Annotated[str, Form(max_length=10)] = "",
    variables: Choices = None,
    part2_conditions_met: Annotated[str, Form(max_length=3)] = "",
    part2_determined_by: Short = "",
    part2_determination: Long = "",
) -> HTMLResponse:
    values = {k: v for k, v in locals().items() if k not in {"request", "db", "viewer"}}
    values["variables"] = variables or []
    try:
        form = ProtocolForm.model_validate(
            {**values, "part2_conditions_met": part2_conditions_met == "on"}
        )
        protocol = record_protocol(db, viewer, form, log_actor(request, viewer))
    except ValidationError as exc:
        return _protocols(request, db, viewer, 422, values=values, errors=_field_errors(exc))
    except ResearchError as exc:
        return _protocols(request, db, viewer, 422, values=values, errors=exc.problems)
    message = f"Protocol {protocol.id} is recorded; another privacy officer confirms it."
    return _protocols(request, db, viewer, message=message)


@router.post("/protocols/{protocol_id}/confirm", response_class=HTMLResponse)
def confirm(request: Request, db: DB, viewer: Confirmer, protocol_id: RecordNumber) -> HTMLResponse:
    try:
        protocol = confirm_protocol(db, viewer, protocol_id, log_actor(request, viewer))
    except ResearchError as exc:
        return _protocols(request, db, viewer, 422, errors=exc.problems)
    return _protocols(request, db, viewer, message=f"Protocol {protocol.id} is in force.")


@router.post("/protocols/{protocol_id}/export", response_model=None)
def export(
    request: Request,
    db: DB,
    viewer: Exporter,
    protocol_id: RecordNumber,
    variables: Choices = None,
    suppress_small_classes: Annotated[str, Form(max_length=3)] = "",
    generalise_rare_values: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    try:
        asked = ExportRequest(
            protocol_id=protocol_id,
            variables=variables or [],
            suppress_small_classes=suppress_small_classes == "on",
            generalise_rare_values=generalise_rare_values == "on",
        )
        file = make_research_export(db, viewer, asked, log_actor(request, viewer))
    except ValidationError as exc:
        return _protocols(request, db, viewer, 422, errors=_field_errors(exc))
    except ExportRefused as exc:
        return _protocols(request, db, viewer, 422, errors=exc.problems, report=exc.report)
    except ResearchError as exc:
        return _protocols(request, db, viewer, 422, errors=exc.problems)
    return _download(file.content, file.filename)


def _download(content: bytes, filename: str) -> Response:
    # An attachment, never shown inline; the name carries a record number or a date only.
    return Response(
        content,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


def _hmis(
    request: Request, db: Session, viewer: Viewer, code: int = 200, **fields: Any
) -> HTMLResponse:
    agencies = [(a.id or 0, a.name) for a in agencies_by_name(db) if a.id != viewer.agency_id]
    db.commit()  # SQLite: a read must not hold the write lock for the rest of the request
    page = HmisPage(
        title="HMIS export", viewer=viewer, csrf_token=viewer.csrf_token, agencies=agencies,
        **fields,
    )  # fmt: skip
    return render(request, "research/hmis.html", page, code)


@router.get("/hmis", response_class=HTMLResponse)
def hmis_form(request: Request, db: DB, viewer: HmisExporter) -> HTMLResponse:
    return _hmis(request, db, viewer)


@router.post("/hmis", response_model=None)
def hmis_export(
    request: Request,
    db: DB,
    viewer: HmisExporter,
    recipient_agency_id: Annotated[RecordNumber, Form()],
) -> Response:
    try:
        file = make_hmis_export(
            db, viewer, HmisRequest(recipient_agency_id=recipient_agency_id),
            log_actor(request, viewer),
        )  # fmt: skip
    except ResearchError as exc:
        return _hmis(
            request, db, viewer, 422, errors=exc.problems,
            recipient_agency_id=str(recipient_agency_id),
        )  # fmt: skip
    return _download(file.content, file.filename)
