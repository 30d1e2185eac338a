"""What the client pages and the client API share: who may read, for which purpose, and a
record read that answers 404 alike for an unknown client and one whose identity the viewer
may not see."""

from collections.abc import Collection
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.clients.purposes import record_purpose
from hub.disclosure.policy import PersonNotFound
from hub.disclosure.record import disclose_record
from hub.disclosure.record_view import DisclosedRecord, WithheldCategory
from hub.vocabulary import Action, Category, Purpose, WithheldReason
from hub.web.api import MAX_RECORD_ID
from hub.web.dependencies import log_actor, require

NOT_FOUND = "No client record you may see has that number."
# Ids are 32-bit on every backend; a larger number is no client, not a database error.
MAX_ID = MAX_RECORD_ID
PersonId = Annotated[int, Path(ge=1, le=MAX_ID, description="The client's record number.")]
ConsentId = Annotated[int, Path(ge=1, le=MAX_ID, description="The consent's number.")]

client_reader = require(Action.clients_read)
client_searcher = require(Action.clients_search)
note_writer = require(Action.notes_write)
consent_manager = require(Action.consents_manage)
ClientReader = Annotated[Viewer, Depends(client_reader)]
ClientSearcher = Annotated[Viewer, Depends(client_searcher)]
NoteWriter = Annotated[Viewer, Depends(note_writer)]
ConsentManager = Annotated[Viewer, Depends(consent_manager)]


def _purpose(viewer: ClientReader) -> Purpose:
    return record_purpose(viewer)


def _search_purpose(viewer: ClientSearcher) -> Purpose:
    return record_purpose(viewer)


# Fixed by the viewer's role (hub.clients.purposes), never taken from the request.
RecordPurpose = Annotated[Purpose, Depends(_purpose)]
SearchPurpose = Annotated[Purpose, Depends(_search_purpose)]


def not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)


def read_record(
    db: Session,
    viewer: Viewer,
    person_id: int,
    purpose: Purpose,
    request: Request,
    categories: Collection[Category] | None = None,
) -> DisclosedRecord:
    """disclose_record for a route: logged and committed, or an exception and nothing shown.
    404 for an unknown client and for one whose identity this viewer may not see: the read is
    logged (outcome withheld) but the answer does not tell the record exists."""
    try:
        record = disclose_record(
            db, viewer, person_id, purpose, log_actor(request, viewer), categories=categories
        )
    except PersonNotFound:
        raise not_found() from None
    identity = record.identity
    if isinstance(identity, WithheldCategory) and identity.reason != WithheldReason.not_requested:
        raise not_found()
    return record


def refuse_nul(text: str) -> str:
    """Text from a form or a JSON body: a NUL character is refused (PostgreSQL cannot store it,
    and no person types one)."""
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    return text
