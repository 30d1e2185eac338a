"""Client pages: search, the record by category (each category a fragment htmx can load
alone), case notes and consents. Thin: the policy layer (hub.disclosure.record) decides and
logs every read, and the services (hub.clients.services, hub.consents.services) every write.
The purpose of every read is fixed by the viewer's role in hub.clients.purposes."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import AfterValidator
from sqlmodel import Session

from hub.accounts.names import staff_directory
from hub.accounts.sessions import Viewer
from hub.clients.pages import (
    ConsentFormPage,
    ConsentPrintPage,
    ConsentRow,
    ConsentsPage,
    RecordPage,
    SearchPage,
    SectionView,
    display_name,
)
from hub.clients.purposes import CONSENTS_PURPOSE
from hub.clients.services import NoteError, add_case_note, note_categories
from hub.clients.timeline import DeadlineTimeline, deadline_timeline
from hub.clients.web import (
    ClientReader,
    ClientSearcher,
    ConsentId,
    ConsentManager,
    NoteWriter,
    PersonId,
    RecordPurpose,
    SearchPurpose,
    not_found,
    read_record,
    refuse_nul,
)
from hub.consents import services as consents
from hub.consents.services import ConsentError, ConsentForm, ConsentRefused
from hub.db import record_number, utcnow
from hub.disclosure.policy import PersonNotFound
from hub.disclosure.record_search import SearchError, SearchQuery, disclose_search
from hub.disclosure.record_view import DisclosedRecord
from hub.permissions import allowed
from hub.referrals.rules import current_rules
from hub.vocabulary import Action, Category, ConsentKind, Purpose
from hub.web.dependencies import DB, log_actor
from hub.web.templating import is_htmx, render

# Pages, not API: kept out of the OpenAPI schema (/api/openapi.json documents /api/v1).
router = APIRouter(include_in_schema=False)

Text = Annotated[str, AfterValidator(refuse_nul)]
ShortText = Annotated[Text, Form(max_length=200)]
LongText = Annotated[Text, Form(max_length=20_000)]


def _page_basics(viewer: Viewer, title: str) -> dict[str, Any]:
    return {"title": title, "viewer": viewer, "csrf_token": viewer.csrf_token}


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


# --- search ---------------------------------------------------------------------------------


def _parse_date(value: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SearchError("The date of birth reads as YYYY-MM-DD.") from None


@router.get("/clients/search", response_class=HTMLResponse)
def search_form(request: Request, viewer: ClientSearcher) -> HTMLResponse:
    return render(
        request, "clients/search.html", SearchPage(**_page_basics(viewer, "Find a client"))
    )


@router.post("/clients/search", response_class=HTMLResponse)
def search(
    request: Request,
    db: DB,
    viewer: ClientSearcher,
    purpose: SearchPurpose,
    name: ShortText = "",
    date_of_birth: Annotated[str, Form(max_length=10)] = "",
) -> HTMLResponse:
    # Terms come in the POST body only (no personal data in URLs) and are not logged.
    page = SearchPage(
        **_page_basics(viewer, "Find a client"), name=name, date_of_birth=date_of_birth
    )
    code = status.HTTP_200_OK
    try:
        query = SearchQuery(name=name, date_of_birth=_parse_date(date_of_birth))
        results = disclose_search(db, viewer, query, purpose, log_actor(request, viewer))
        page.hits, page.searched = results.hits, True
    except SearchError as exc:
        page.error = str(exc)
        code = status.HTTP_422_UNPROCESSABLE_CONTENT
    if is_htmx(request):
        # htmx swaps only 2xx answers; the fragment carries the error itself.
        return render(request, "clients/_search_results.html", page)
    return render(request, "clients/search.html", page, code)


# --- the record -----------------------------------------------------------------------------


def _record_page(db: Session, viewer: Viewer, record: DisclosedRecord, **extra: Any) -> RecordPage:
    return RecordPage(
        **_page_basics(viewer, "Client record"),
        person_id=record.person_id,
        name=display_name(record) or "",
        purpose=record.purpose,
        sections=[SectionView.of(record, c) for c in Category],
        notes=record.notes,
        notice=record.notice,
        note_categories=note_categories(db, viewer, record.person_id, record.facts),
        can_manage_consents=allowed(viewer.role, Action.consents_manage),
        staff=staff_directory(db),
        codes=current_rules(db).code_labels,
        **extra,
    )


def _timeline(db: Session, record: DisclosedRecord) -> DeadlineTimeline | None:
    # Drawn only for the pages that show the engagement section it belongs to.
    return deadline_timeline(record, utcnow(), current_rules(db).tz)


@router.get("/clients/{person_id}", response_class=HTMLResponse)
def record_page(
    request: Request, db: DB, viewer: ClientReader, purpose: RecordPurpose, person_id: PersonId
) -> HTMLResponse:
    record = read_record(db, viewer, person_id, purpose, request)
    page = _record_page(db, viewer, record, timeline=_timeline(db, record))
    return render(request, "clients/record.html", page)


@router.get("/clients/{person_id}/sections/{category}", response_class=HTMLResponse)
def record_section(
    request: Request,
    db: DB,
    viewer: ClientReader,
    purpose: RecordPurpose,
    person_id: PersonId,
    category: Category,
) -> HTMLResponse:
    # Reads and logs this one category only (HIPAA minimum necessary and accounting).
    record = read_record(db, viewer, person_id, purpose, request, categories={category})
    page = RecordPage(
        **_page_basics(viewer, "Client record"),
        person_id=person_id,
        sections=[SectionView.of(record, category)],
        notes=record.notes,
        notice=record.notice,
        standalone=True,
        staff=staff_directory(db),
        codes=current_rules(db).code_labels,
        timeline=_timeline(db, record) if category == Category.engagement else None,
    )
    return render(request, "clients/_section_alone.html", page)


@router.get("/clients/{person_id}/notes", response_class=HTMLResponse)
def notes_page(
    request: Request, db: DB, viewer: ClientReader, purpose: RecordPurpose, person_id: PersonId
) -> HTMLResponse:
    record = read_record(db, viewer, person_id, purpose, request)
    page = _record_page(db, viewer, record, standalone=is_htmx(request))
    page.sections = []
    template = "clients/_notes.html" if is_htmx(request) else "clients/notes.html"
    return render(request, template, page)


@router.post("/clients/{person_id}/notes", response_class=HTMLResponse)
def add_note(
    request: Request,
    db: DB,
    viewer: NoteWriter,
    purpose: RecordPurpose,
    person_id: PersonId,
    category: Annotated[str, Form(max_length=32)] = "",
    body: LongText = "",
) -> Response:
    error = None
    try:
        add_case_note(db, viewer, person_id, category, body, log_actor(request, viewer))  # type: ignore[arg-type]
    except NoteError as exc:
        if exc.not_found:
            raise not_found() from None
        error = str(exc)
    if error is None and not is_htmx(request):
        return _redirect(f"/clients/{person_id}/notes")
    record = read_record(db, viewer, person_id, purpose, request)
    page = _record_page(
        db,
        viewer,
        record,
        note_error=error,
        note_body=body if error else "",
        note_category=category if error else "",
        standalone=True,
    )
    page.sections = []
    if is_htmx(request):
        return render(request, "clients/_notes.html", page)
    page.standalone = False
    return render(request, "clients/notes.html", page, status.HTTP_422_UNPROCESSABLE_CONTENT)


# --- consents -------------------------------------------------------------------------------


def _client_name(db: Session, viewer: Viewer, person_id: int, request: Request) -> str:
    """The client's name for a consent page's heading: an identity-only read, logged."""
    record = read_record(db, viewer, person_id, CONSENTS_PURPOSE, request, {Category.identity})
    return display_name(record) or ""


def _consent_rows(
    db: Session, viewer: Viewer, person_id: int, request: Request
) -> list[ConsentRow]:
    try:
        listed = consents.list_consents(db, viewer, person_id, log_actor(request, viewer))
    except ConsentError as exc:
        raise _consent_http_error(exc) from None
    names = {a.id: a.name for a in consents.agencies_by_name(db) if a.id is not None}
    db.commit()
    now = utcnow()
    return [ConsentRow.of(c, now, names) for c in listed]


def _consent_http_error(exc: ConsentError) -> HTTPException:
    if isinstance(exc.__cause__, PersonNotFound):
        return not_found()
    code = 403 if isinstance(exc, ConsentRefused) else 422
    return HTTPException(code, str(exc))


def _consents_page(
    db: Session, viewer: Viewer, person_id: int, request: Request, error: str | None = None
) -> ConsentsPage:
    name = _client_name(db, viewer, person_id, request)
    return ConsentsPage(
        **_page_basics(viewer, "Consents"),
        person_id=person_id,
        name=name,
        consents=_consent_rows(db, viewer, person_id, request),
        error=error,
    )


@router.get("/clients/{person_id}/consents", response_class=HTMLResponse)
def consents_page(
    request: Request, db: DB, viewer: ConsentManager, person_id: PersonId
) -> HTMLResponse:
    page = _consents_page(db, viewer, person_id, request)
    return render(request, "clients/consents.html", page)


def _consent_form(
    db: Session,
    viewer: Viewer,
    person_id: int,
    request: Request,
    values: dict[str, Any],
    error: str | None = None,
) -> ConsentFormPage:
    name = _client_name(db, viewer, person_id, request)
    agencies = [(a.id, a.name) for a in consents.agencies_by_name(db)]
    recipient_groups = consents.recipient_groups(db)
    db.commit()
    return ConsentFormPage(
        **_page_basics(viewer, "Record a consent"),
        person_id=person_id,
        name=name,
        values=values,
        agencies=agencies,  # type: ignore[arg-type]
        recipient_groups=recipient_groups,
        error=error,
    )


CONSENT_DEFAULTS: dict[str, Any] = {
    "kind": ConsentKind.part2.value,
    "categories": [],
    "purposes": [],
    "right_to_revoke": (
        "You may revoke this consent at any time, in writing or in person, at the "
        "case-management agency; revocation does not undo disclosures already made."
    ),
    "signature_on_file": False,
}


@router.get("/clients/{person_id}/consents/new", response_class=HTMLResponse)
def new_consent_form(
    request: Request, db: DB, viewer: ConsentManager, person_id: PersonId
) -> HTMLResponse:
    values = {
        **CONSENT_DEFAULTS,
        "discloser_agency_id": viewer.agency_id,
        "signed_on": date.today().isoformat(),
    }
    page = _consent_form(db, viewer, person_id, request, values)
    return render(request, "clients/consent_form.html", page)


@router.post("/clients/{person_id}/consents", response_class=HTMLResponse)
def create_consent(
    request: Request,
    db: DB,
    viewer: ConsentManager,
    person_id: PersonId,
    kind: Annotated[str, Form(max_length=32)] = "",
    discloser_agency_id: Annotated[str, Form(max_length=12)] = "",
    recipient: Annotated[str, Form(max_length=64)] = "",
    categories: Annotated[list[str] | None, Form()] = None,
    purposes: Annotated[list[str] | None, Form()] = None,
    description: Annotated[Text, Form(max_length=1000)] = "",
    right_to_revoke: Annotated[Text, Form(max_length=1000)] = "",
    expires_on: Annotated[str, Form(max_length=10)] = "",
    expiry_event: Annotated[Text, Form(max_length=300)] = "",
    irrevocable_until: Annotated[Text, Form(max_length=300)] = "",
    signed_by: ShortText = "",
    signature_on_file: Annotated[str, Form(max_length=8)] = "",
    signed_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    values = {k: v for k, v in locals().items() if k not in {"request", "db", "viewer"}}
    values["categories"] = categories or []
    values["purposes"] = purposes or []
    try:
        form = ConsentForm(
            person_id=person_id,
            kind=_choice(ConsentKind, kind, "the kind of consent"),
            discloser_agency_id=_number(discloser_agency_id, "who may disclose"),
            categories=[_choice(Category, c, "a category") for c in categories or []],
            purposes=[_choice(Purpose, p, "a purpose") for p in purposes or []],
            description=description,
            right_to_revoke=right_to_revoke,
            signed_by=signed_by,
            signature_on_file=signature_on_file == "yes",
            signed_on=_day(signed_on, "the date signed"),  # type: ignore[arg-type]
            expires_on=_day(expires_on, "the expiry date"),
            expiry_event=expiry_event or None,
            irrevocable_until=irrevocable_until or None,
            **consents.recipient_fields(recipient),  # type: ignore[arg-type]
        )
        consents.create_consent(db, viewer, form, log_actor(request, viewer))
    except ConsentError as exc:
        if isinstance(exc, ConsentRefused) or isinstance(exc.__cause__, PersonNotFound):
            raise _consent_http_error(exc) from None
        page = _consent_form(db, viewer, person_id, request, values, str(exc))
        return render(request, "clients/consent_form.html", page, 422)
    return _redirect(f"/clients/{person_id}/consents")


def _choice(enum: Any, value: str, what: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise ConsentError(f"Choose {what} from the list.") from None


def _number(value: str, what: str) -> int:
    try:
        return record_number(value)
    except ValueError:
        raise ConsentError(f"Choose {what} from the list.") from None


def _day(value: str, what: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ConsentError(f"Give {what} as YYYY-MM-DD.") from None


@router.post("/clients/{person_id}/consents/{consent_id}/revoke", response_class=HTMLResponse)
def revoke_consent(
    request: Request,
    db: DB,
    viewer: ConsentManager,
    person_id: PersonId,
    consent_id: ConsentId,
) -> Response:
    error = None
    try:
        if not any(c.id == consent_id for c in _consent_rows(db, viewer, person_id, request)):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "No such consent for this client.")
        consents.revoke_consent(db, viewer, consent_id, log_actor(request, viewer))
    except ConsentError as exc:
        if isinstance(exc, ConsentRefused):
            raise _consent_http_error(exc) from None
        error = str(exc)
    if error is None and not is_htmx(request):
        return _redirect(f"/clients/{person_id}/consents")
    page = _consents_page(db, viewer, person_id, request, error)
    if is_htmx(request):
        return render(request, "clients/_consents.html", page)
    return render(request, "clients/consents.html", page, 422)


@router.get("/clients/{person_id}/consents/{consent_id}/print", response_class=HTMLResponse)
def print_consent(
    request: Request,
    db: DB,
    viewer: ConsentManager,
    person_id: PersonId,
    consent_id: ConsentId,
) -> HTMLResponse:
    name = _client_name(db, viewer, person_id, request)
    row = next(
        (c for c in _consent_rows(db, viewer, person_id, request) if c.id == consent_id), None
    )
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such consent for this client.")
    page = ConsentPrintPage(
        **_page_basics(viewer, "Consent"),
        person_id=person_id,
        name=name,
        consent=row,
        printed_at=utcnow(),
    )
    return render(request, "clients/consent_print.html", page)
