"""Reading a client's documents through the policy: the list (what each is) and a download.

Each document has its own category (hub.documents.models); one a Part 2 program's staff
attached is Part 2 data of that category (hub.disclosure.origin). A list shows only the
documents of categories the decision allows, a download only such a document, and each is a
disclosure entry committed with the read: a download that cannot be logged is not served."""

import base64
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append_and_commit
from hub.db import rollback_on_error, utcnow
from hub.disclosure.notice import REDISCLOSURE_NOTICE
from hub.disclosure.origin import part2_origin
from hub.disclosure.plans import viewer_actor
from hub.disclosure.policy import Decision, decide, gather_facts
from hub.disclosure.releases import policy_in_force
from hub.documents.models import ClientDocument
from hub.vocabulary import (
    Category,
    DisclosureOutcome,
    DisclosureTag,
    DocumentKind,
    Purpose,
)


class DocumentWithheld(LookupError):
    """No document of that number this viewer may see (unknown, or withheld: not told which)."""


@dataclass(frozen=True)
class DocumentView:
    id: int
    kind: DocumentKind
    category: Category
    consent_id: int | None
    media_type: str
    size_bytes: int
    uploaded_at: datetime
    part2: bool


@dataclass(frozen=True)
class DisclosedDocuments:
    person_id: int
    log_seq: int
    identity_allowed: bool
    documents: tuple[DocumentView, ...]
    part2: bool

    @property
    def notice(self) -> str | None:
        return REDISCLOSURE_NOTICE if self.part2 else None


@dataclass(frozen=True)
class DocumentCopy:
    id: int
    media_type: str
    content: bytes
    part2: bool


def _shown(decision: Decision) -> ColumnElement[bool]:
    allowed = sorted(decision.disclosed)
    part2 = sorted(c for c in allowed if decision.allows_part2(c))
    return (col(ClientDocument.category).in_(allowed)) & or_(
        col(ClientDocument.category).in_(part2), ~part2_origin(ClientDocument)
    )


def _log(
    db: Session,
    viewer: Viewer,
    actor: Actor,
    tag: DisclosureTag,
    decision: Decision,
    person_id: int,
    categories: set[str],
    detail: dict[str, object],
) -> int:
    entry = append_and_commit(
        db,
        viewer_actor(viewer, actor),
        Event(
            kind="disclosure",
            tag=tag.value,
            outcome=(
                DisclosureOutcome.disclosed if categories else DisclosureOutcome.withheld
            ).value,
            purpose=decision.purpose.value,
            person_id=person_id,
            categories=sorted(categories),
            policy_version=decision.policy_version,
            detail=detail,
        ),
    )
    return entry.seq


def disclose_documents(
    db: Session, viewer: Viewer, person_id: int, purpose: Purpose, actor: Actor
) -> DisclosedDocuments:
    """The documents of the categories this viewer may see (what each is, not its content);
    logged and committed. Raises PersonNotFound."""
    with rollback_on_error(db):
        facts = gather_facts(db, viewer, person_id, utcnow())
        decision = decide(viewer, facts, purpose, policy_in_force(db))
        rows = db.exec(
            select(ClientDocument, part2_origin(ClientDocument))
            .where(ClientDocument.person_id == person_id, _shown(decision))
            .order_by(col(ClientDocument.id))
        ).all()
        views = tuple(
            DocumentView(
                id=d.id or 0,
                kind=d.kind,
                category=d.category,
                consent_id=d.consent_id,
                media_type=d.media_type,
                size_bytes=d.size_bytes,
                uploaded_at=d.uploaded_at,
                part2=bool(labelled),
            )
            for d, labelled in rows
        )
        part2 = any(v.part2 or v.category == Category.treatment for v in views)
        categories = {v.category.value for v in views}
        if part2:
            categories.add(Category.treatment.value)
        seq = _log(
            db,
            viewer,
            actor,
            DisclosureTag.documents_read,
            decision,
            person_id,
            categories,
            {"documents": [v.id for v in views], "part2": part2},
        )
    return DisclosedDocuments(person_id, seq, decision.allows(Category.identity), views, part2)


def disclose_document(
    db: Session, viewer: Viewer, person_id: int, document_id: int, purpose: Purpose, actor: Actor
) -> DocumentCopy:
    """One document's content, where this viewer may see its category (and its Part 2 origin);
    the download is a disclosure entry committed before the bytes are handed over. Raises
    DocumentWithheld (the refusal logged as a withheld read) or PersonNotFound."""
    with rollback_on_error(db):
        facts = gather_facts(db, viewer, person_id, utcnow())
        decision = decide(viewer, facts, purpose, policy_in_force(db))
        found = db.exec(
            select(ClientDocument, part2_origin(ClientDocument)).where(
                ClientDocument.id == document_id,
                ClientDocument.person_id == person_id,
                _shown(decision),
            )
        ).first()
        if found is None:
            _log(
                db,
                viewer,
                actor,
                DisclosureTag.document_read,
                decision,
                person_id,
                set(),
                {"document_id": document_id},
            )
            raise DocumentWithheld("No document of that number you may see.")
        document, labelled = found
        part2 = bool(labelled) or document.category == Category.treatment
        categories = {document.category.value}
        if part2:
            categories.add(Category.treatment.value)
        _log(
            db,
            viewer,
            actor,
            DisclosureTag.document_read,
            decision,
            person_id,
            categories,
            {"document_id": document_id, "sha256": document.sha256, "part2": part2},
        )
        return DocumentCopy(
            document_id, document.media_type, base64.b64decode(document.content), part2
        )
