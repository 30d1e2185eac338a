"""A client's documents: the list and the upload form (`/clients/{id}/documents`) and each
download. Thin: hub.disclosure.documents decides and logs each read, hub.documents.services
each attachment. A download is an attachment, never shown inline from the hub's origin."""

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.caserecord.writing import WriteRefused
from hub.clients.web import ClientReader, PersonId, RecordPurpose, not_found
from hub.disclosure.documents import (
    DisclosedDocuments,
    DocumentWithheld,
    disclose_document,
    disclose_documents,
)
from hub.disclosure.policy import PersonNotFound
from hub.documents.files import BY_MEDIA_TYPE, FileRefused, read_limited
from hub.documents.services import DocumentErrors, DocumentForm, attach_document
from hub.permissions import allowed
from hub.settings import get_settings
from hub.vocabulary import Action, Category, DocumentKind, Purpose
from hub.web.dependencies import DB, log_actor, require
from hub.web.params import RecordNumber
from hub.web.templating import Page, render

router = APIRouter(include_in_schema=False)

DocumentWriter = Annotated[Viewer, Depends(require(Action.record_write))]
# A downloaded file may not run anything, frame anything or be framed, even if opened inline.
DOWNLOAD_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"


@dataclass
class DocumentsPage(Page):
    person_id: int = 0
    listing: DisclosedDocuments | None = None
    notice: str | None = None
    can_attach: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    kinds: tuple[DocumentKind, ...] = tuple(DocumentKind)
    categories: tuple[Category, ...] = tuple(Category)
    max_mb: int = 10


def _page(
    db: Session, viewer: Viewer, person_id: int, purpose: Purpose, request: Request, **extra: Any
) -> DocumentsPage:
    try:
        listing = disclose_documents(db, viewer, person_id, purpose, log_actor(request, viewer))
    except PersonNotFound:
        raise not_found() from None
    if not listing.identity_allowed:
        raise not_found()
    return DocumentsPage(
        title="Documents",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        person_id=person_id,
        listing=listing,
        notice=listing.notice,
        can_attach=allowed(viewer.role, Action.record_write),
        max_mb=get_settings().document_max_bytes // (1024 * 1024),
        **extra,
    )


@router.get("/clients/{person_id}/documents", response_class=HTMLResponse)
def documents_page(
    request: Request, db: DB, viewer: ClientReader, purpose: RecordPurpose, person_id: PersonId
) -> Response:
    return render(
        request, "documents/documents.html", _page(db, viewer, person_id, purpose, request)
    )


def _content(upload: UploadFile | None) -> tuple[bytes | None, str | None]:
    if upload is None:
        return None, None
    try:
        return read_limited(upload.file, get_settings().document_max_bytes), None
    except FileRefused as exc:
        return None, str(exc)


@router.post("/clients/{person_id}/documents", response_class=HTMLResponse)
def attach(
    request: Request,
    db: DB,
    viewer: DocumentWriter,
    purpose: RecordPurpose,
    person_id: PersonId,
    kind: Annotated[str, Form(max_length=32)] = "",
    category: Annotated[str, Form(max_length=32)] = "",
    consent_id: Annotated[RecordNumber | None, Form()] = None,
    document: Annotated[UploadFile | None, File()] = None,
) -> Response:
    content, refused = _content(document)
    form = DocumentForm(kind, category, consent_id, content, refused)
    try:
        attach_document(db, viewer, person_id, form, log_actor(request, viewer))
    except DocumentErrors as exc:
        values = {"kind": kind, "category": category, "consent_id": consent_id}
        page = _page(db, viewer, person_id, purpose, request, errors=exc.errors, values=values)
        return render(request, "documents/documents.html", page, 422)
    except WriteRefused as exc:
        if exc.not_found:
            raise not_found() from None
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "You cannot attach this to this client's record."
        ) from None
    return RedirectResponse(
        f"/clients/{person_id}/documents", status_code=status.HTTP_303_SEE_OTHER
    )


@router.get("/clients/{person_id}/documents/{document_id}")
def download(
    request: Request,
    db: DB,
    viewer: ClientReader,
    purpose: RecordPurpose,
    person_id: PersonId,
    document_id: RecordNumber,
) -> Response:
    try:
        copy = disclose_document(
            db, viewer, person_id, document_id, purpose, log_actor(request, viewer)
        )
    except (PersonNotFound, DocumentWithheld):
        raise not_found() from None
    extension = BY_MEDIA_TYPE[copy.media_type].extension
    # An attachment under the media type its bytes are; the name carries its number only.
    return Response(
        copy.content,
        media_type=copy.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="document-{copy.id}.{extension}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": DOWNLOAD_CSP,
            "Cache-Control": "no-store",
        },
    )
