"""Attaching a document to a client or to one of their consents.

The document takes a category: an ID is identity; a signed release is identity, or treatment
when it is a 42 CFR Part 2 consent (it names the program and says the client is its patient);
anything else the uploader names. Only someone the write policy lets keep that category of the
client's record attaches it (hub.caserecord.writing); the write policy files an identity
document as part of the client's plan file (its `g` lines, as for case notes). The bytes
decide its type, it is sealed at rest, and the attachment is a security event naming its
number and digest."""

import base64
import hashlib
from dataclasses import dataclass

from sqlmodel import Session, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append_and_commit, append_refusal
from hub.caserecord.writing import require_write
from hub.consents.models import Consent
from hub.db import rollback_on_error, utcnow
from hub.documents.files import FileRefused, sniff
from hub.documents.models import ClientDocument
from hub.settings import get_settings
from hub.vocabulary import (
    Action,
    Category,
    ConsentKind,
    DocumentKind,
    Purpose,
    SecurityEventTag,
)


class DocumentErrors(ValueError):
    """Every field that is wrong, by name; nothing was kept."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class DocumentForm:
    kind: str
    category: str  # for kind "other" only
    consent_id: int | None
    content: bytes | None  # None: no file was sent
    refused: str | None = None  # why the upload was refused as it was read (too large)


def _category(
    db: Session, form: DocumentForm, errors: dict[str, str]
) -> tuple[DocumentKind | None, Category | None]:
    try:
        kind = DocumentKind(form.kind)
    except ValueError:
        errors["kind"] = "Choose one of: " + ", ".join(k.value for k in DocumentKind) + "."
        return None, None
    if kind == DocumentKind.id_document:
        return kind, Category.identity
    if kind == DocumentKind.signed_release:
        if form.consent_id is None:
            errors["consent_id"] = "A signed release belongs to one of the client's consents."
            return kind, None
        consent = db.get(Consent, form.consent_id)
        part2 = consent is not None and consent.kind == ConsentKind.part2
        return kind, Category.treatment if part2 else Category.identity
    try:
        return kind, Category(form.category)
    except ValueError:
        errors["category"] = "Name the category of what the document holds."
        return kind, None


def attach_document(
    db: Session, viewer: Viewer, person_id: int, form: DocumentForm, actor: Actor
) -> ClientDocument:
    """Attaches a PDF, PNG or JPEG (by its bytes) within HUB_DOCUMENT_MAX_BYTES, sealed;
    raises DocumentErrors naming every bad field at once, or WriteRefused (logged)."""
    errors: dict[str, str] = {}
    kind, category = _category(db, form, errors)
    file_type = None
    if form.refused:
        errors["document"] = form.refused
    elif not form.content:
        errors["document"] = "Attach the file."
    else:
        try:
            file_type = sniff(form.content)
        except FileRefused as exc:
            errors["document"] = str(exc)
        if len(form.content) > get_settings().document_max_bytes:
            errors["document"] = "The file is larger than the limit."
    if errors:
        raise DocumentErrors(errors)
    assert kind is not None and category is not None and file_type is not None and form.content
    with rollback_on_error(db):
        grant = require_write(db, viewer, person_id, category, actor)
        if form.consent_id is not None:
            consent = db.exec(
                select(Consent.id).where(
                    Consent.id == form.consent_id, Consent.person_id == person_id
                )
            ).first()
            if consent is None:
                db.rollback()
                append_refusal(
                    db,
                    actor,
                    {
                        "action": Action.record_write.value,
                        "person_id": person_id,
                        "consent_id": form.consent_id,
                    },
                )
                raise DocumentErrors({"consent_id": "No consent of that number for this client."})
        digest = hashlib.sha256(form.content).hexdigest()
        document = ClientDocument(
            person_id=person_id,
            consent_id=form.consent_id,
            kind=kind,
            category=category,
            media_type=file_type.media_type,
            content=base64.b64encode(form.content).decode("ascii"),
            size_bytes=len(form.content),
            sha256=digest,
            uploaded_by_id=viewer.user_id,
            uploaded_at=utcnow(),
        )
        db.add(document)
        db.flush()
        append_and_commit(
            db,
            actor,
            Event(
                kind="security",
                tag=SecurityEventTag.document_attached.value,
                outcome="success",
                purpose=Purpose.case_management.value,
                person_id=person_id,
                categories=sorted({category.value, grant.category.value}),
                policy_version=grant.read.policy_version,
                detail={
                    "document_id": document.id,
                    "sha256": digest,
                    "media_type": file_type.media_type,
                    "write_policy_version": grant.write_policy_version,
                },
            ),
        )
        return document
