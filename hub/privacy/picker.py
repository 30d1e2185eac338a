"""The privacy officer's client picker (issue 17, item 7): find a client by name or record
number for break-glass, a court order or an accounting, instead of typing a bare number.

Only through the policy layer, which logs what it shows: a privacy officer sees a client's name
only under an open break-glass (policies/policy.csv), so a name finds those; a record number
finds the record whatever it is, named only as far as the policy allows."""

from dataclasses import dataclass

from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor
from hub.db import record_number
from hub.disclosure.identities import disclose_identities
from hub.disclosure.record_search import SearchError, SearchQuery, disclose_search
from hub.disclosure.record_view import Identity
from hub.privacy.search import client_on_file
from hub.vocabulary import Purpose

# The picker's answers are for oversight, the privacy officer's one purpose.
PICK_PURPOSE = Purpose.oversight


class PickError(ValueError):
    """The query cannot be answered (too short, not a name or number): say so."""


@dataclass(frozen=True)
class Pick:
    """A client the privacy officer may choose: the record number, and the name if the policy
    lets them see it."""

    person_id: int
    identity: Identity | None


def pick_clients(db: Session, viewer: Viewer, query: str, actor: Actor) -> list[Pick]:
    """The clients a name or a record number finds for this privacy officer; logs the answer
    (the policy layer's disclosure entry) and commits."""
    text = query.strip()
    if not text:
        raise PickError("Type a name or a record number.")
    try:
        number = record_number(text)
    except ValueError:
        number = None
    if number is not None:
        if not client_on_file(db, number):
            return []
        known = disclose_identities(db, viewer, [number], PICK_PURPOSE, actor)
        identity = known.identity(number)
        return [Pick(number, identity if isinstance(identity, Identity) else None)]
    try:
        found = disclose_search(db, viewer, SearchQuery(name=text), PICK_PURPOSE, actor)
    except SearchError as error:
        raise PickError(str(error)) from None
    return [Pick(hit.person_id, hit.identity) for hit in found.hits]
