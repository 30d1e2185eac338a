"""Earlier matters and warrants: a prosecutor enters them for a client of the office, or
imports them from the office's case system as CSV (hub.priors.services). They are read on the
client record's legal section, through the policy layer like the rest of it."""

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile, status
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field, ValidationError
from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.db import utcnow
from hub.priors import services
from hub.priors.services import (
    COLUMNS,
    ImportKind,
    ImportReport,
    PriorMatterIn,
    PriorsError,
    WarrantIn,
)
from hub.referrals.rules import current_rules
from hub.vocabulary import Action, ImportMode, WarrantStatus
from hub.web.dependencies import DB, log_actor, refused_as_not_found, require
from hub.web.params import RecordNumber
from hub.web.templating import Page, render

router = APIRouter()

Recorder = Annotated[Viewer, Depends(require(Action.priors_record))]
MAX_IMPORT_BYTES = 2 * 1024 * 1024


class PriorMatterForm(BaseModel):
    """The earlier-matter form as typed: checked as PriorMatterIn, every error at once."""

    case_number: str = Field(default="", max_length=40)
    court: str = Field(default="", max_length=120)
    offense_code: str = Field(default="", max_length=40)
    offense_description: str = Field(default="", max_length=200)
    level: str = Field(default="", max_length=40)
    filed_on: str = Field(default="", max_length=10)
    disposed_on: str = Field(default="", max_length=10)
    disposition: str = Field(default="", max_length=120)


class WarrantForm(BaseModel):
    issued_on: str = Field(default="", max_length=10)
    court: str = Field(default="", max_length=120)
    kind: str = Field(default="", max_length=60)
    status: str = Field(default="", max_length=32)


@dataclass
class PriorsPage(Page):
    person_id: int = 0
    levels: list[str] = field(default_factory=list)
    statuses: list[WarrantStatus] = field(default_factory=lambda: list(WarrantStatus))
    matter_form: PriorMatterForm = field(default_factory=PriorMatterForm)
    warrant_form: WarrantForm = field(default_factory=WarrantForm)
    errors: list[str] = field(default_factory=list)
    columns: dict[ImportKind, tuple[str, ...]] = field(default_factory=lambda: dict(COLUMNS))
    report: ImportReport | None = None


def _page(db: Session, viewer: Viewer, person_id: int, **extra: Any) -> PriorsPage:
    return PriorsPage(
        title="Earlier matters and warrants",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        person_id=person_id,
        levels=list(current_rules(db).levels),
        **extra,
    )


def _office_client(request: Request, db: Session, viewer: Viewer, person_id: int) -> None:
    """Another office's client (or no one) answers as none, and the attempt is logged."""
    if person_id not in services.office_clients(db, viewer, {person_id}):
        raise refused_as_not_found(
            request,
            db,
            viewer,
            Action.priors_record,
            "no client of your office has that record number",
            person_id=person_id,
        )


@router.get("/priors/{person_id}", response_class=HTMLResponse)
def priors_form(request: Request, db: DB, viewer: Recorder, person_id: RecordNumber) -> Response:
    _office_client(request, db, viewer, person_id)
    return render(request, "priors/priors.html", _page(db, viewer, person_id))


def _entered(
    request: Request,
    db: Session,
    viewer: Viewer,
    person_id: int,
    entry: PriorMatterIn | WarrantIn,
    what: str,
) -> Response:
    try:
        services.record_entry(
            db, viewer, person_id, entry, log_actor(request, viewer), utcnow().date()
        )
    except PriorsError as error:
        db.rollback()
        page = _page(db, viewer, person_id, errors=str(error).split("; "))
        return render(request, "priors/priors.html", page, status.HTTP_400_BAD_REQUEST)
    page = _page(db, viewer, person_id)
    page.messages.append(f"The {what} is recorded; it shows on the client's legal section.")
    return render(request, "priors/priors.html", page)


@router.post("/priors/{person_id}/matters", response_class=HTMLResponse)
def enter_prior_matter(
    request: Request,
    db: DB,
    viewer: Recorder,
    person_id: RecordNumber,
    form: Annotated[PriorMatterForm, Form()],
) -> Response:
    _office_client(request, db, viewer, person_id)
    try:
        entry = PriorMatterIn.model_validate(
            {k: v or None for k, v in form.model_dump().items()},
            context={"today": utcnow().date()},
        )
    except ValidationError as error:
        page = _page(db, viewer, person_id, matter_form=form, errors=services.field_errors(error))
        return render(request, "priors/priors.html", page, status.HTTP_400_BAD_REQUEST)
    return _entered(request, db, viewer, person_id, entry, "earlier matter")


@router.post("/priors/{person_id}/warrants", response_class=HTMLResponse)
def enter_warrant(
    request: Request,
    db: DB,
    viewer: Recorder,
    person_id: RecordNumber,
    form: Annotated[WarrantForm, Form()],
) -> Response:
    _office_client(request, db, viewer, person_id)
    try:
        entry = WarrantIn.model_validate(
            {k: v or None for k, v in form.model_dump().items()},
            context={"today": utcnow().date()},
        )
    except ValidationError as error:
        page = _page(db, viewer, person_id, warrant_form=form, errors=services.field_errors(error))
        return render(request, "priors/priors.html", page, status.HTTP_400_BAD_REQUEST)
    return _entered(request, db, viewer, person_id, entry, "warrant")


@dataclass
class ImportPage(Page):
    columns: dict[ImportKind, tuple[str, ...]] = field(default_factory=lambda: dict(COLUMNS))
    report: ImportReport | None = None
    errors: list[str] = field(default_factory=list)


def _import_page(viewer: Viewer, **extra: Any) -> ImportPage:
    return ImportPage(
        title="Import earlier matters and warrants",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        **extra,
    )


@router.get("/priors", response_class=HTMLResponse)
def import_form(request: Request, viewer: Recorder) -> Response:
    return render(request, "priors/import.html", _import_page(viewer))


@router.post("/priors/import", response_class=HTMLResponse)
def import_priors(
    request: Request,
    db: DB,
    viewer: Recorder,
    kind: Annotated[ImportKind, Form()],
    mode: Annotated[ImportMode, Form()],
    file: Annotated[UploadFile, File()],
) -> Response:
    data = file.file.read(MAX_IMPORT_BYTES + 1)
    errors = []
    if len(data) > MAX_IMPORT_BYTES:
        errors.append(f"file: larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB: split it")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        errors.append("file: not UTF-8 text")
    if errors or "\x00" in text:
        page = _import_page(viewer, errors=errors or ["file: holds a NUL character"])
        return render(request, "priors/import.html", page, status.HTTP_400_BAD_REQUEST)
    report = services.import_file(
        db, viewer, text, kind, mode, log_actor(request, viewer), utcnow().date()
    )
    code = status.HTTP_200_OK if report.imported or not report.refused else 400
    return render(request, "priors/import.html", _import_page(viewer, report=report), code)
