"""Finding clients by name or record number through the policy: candidates by identity fields,
then each decided; only those the viewer may name are returned, and the search is logged."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append_and_commit
from hub.clients.models import (
    Person,
    PersonAlias,
)
from hub.db import rollback_on_error, utcnow
from hub.disclosure.field_map import C
from hub.disclosure.policy import (
    decide,
    gather_facts_many,
)
from hub.disclosure.record import actor_for_log, build_entry, read_rows
from hub.disclosure.record_view import Identity
from hub.disclosure.releases import policy_in_force
from hub.vocabulary import (
    DisclosureOutcome,
    DisclosureTag,
    Purpose,
)

MAX_SEARCH_RESULTS = 50


# Candidates gathered and decided at a time: one set of fact queries each.
SEARCH_DECIDE_CHUNK = 100


@dataclass(frozen=True)
class SearchQuery:
    """Search terms: part of a name or alias, a date of birth, or both. They travel in POST
    bodies, never in URLs, and are not written to the log."""

    name: str | None = None
    date_of_birth: date | None = None


@dataclass(frozen=True)
class SearchHit:
    person_id: int
    identity: Identity


@dataclass(frozen=True)
class SearchResults:
    hits: tuple[SearchHit, ...]
    purpose: Purpose
    policy_version: str
    log_seq: int


class SearchError(ValueError):
    """The search terms are not usable; nothing was searched."""


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _candidates(db: Session, query: SearchQuery) -> list[int]:
    conditions: list[ColumnElement[bool]] = []
    for term in (query.name or "").split():
        pattern = _like(term)
        alias = select(PersonAlias.person_id).where(
            col(PersonAlias.name).ilike(pattern, escape="\\")
        )
        conditions.append(
            or_(
                col(Person.first_name).ilike(pattern, escape="\\"),
                col(Person.last_name).ilike(pattern, escape="\\"),
                col(Person.id).in_(alias),
            )
        )
    if query.date_of_birth is not None:
        conditions.append(col(Person.date_of_birth) == query.date_of_birth)
    statement = select(Person.id).where(*conditions).order_by(col(Person.id)).limit(500)
    return [pid for pid in db.exec(statement).all() if pid is not None]


def disclose_search(
    db: Session, viewer: Viewer, query: SearchQuery, purpose: Purpose, actor: Actor
) -> SearchResults:
    """Finds clients by name, alias or date of birth and discloses their identity only, and
    only of those whose identity this viewer may see for this purpose; logs one entry listing
    the persons disclosed, and commits."""
    name = (query.name or "").strip()
    if len(name) < 2 and query.date_of_birth is None:
        raise SearchError("Give at least two letters of a name, or a date of birth.")
    with rollback_on_error(db):
        policy = policy_in_force(db)
        now = utcnow()
        candidates = _candidates(db, SearchQuery(name=name, date_of_birth=query.date_of_birth))
        basis: dict[int, str] = {}
        # At most MAX_SEARCH_RESULTS are shown, the first in id order whose identity the
        # policy discloses: gather and decide the candidates a chunk at a time and stop once
        # the page is full, instead of gathering facts for every candidate (up to 500). The
        # candidates after the last one shown were never shown, whether decided or not, so
        # the log's withheld_count (candidates not disclosed) is the same either way.
        for start in range(0, len(candidates), SEARCH_DECIDE_CHUNK):
            chunk = candidates[start : start + SEARCH_DECIDE_CHUNK]
            facts = gather_facts_many(db, viewer, chunk, now)
            for pid in chunk:
                decision = decide(viewer, facts[pid], purpose, policy)
                if C.identity in decision.disclosed:
                    basis[pid] = decision.disclosed[C.identity]
                if len(basis) == MAX_SEARCH_RESULTS:
                    break
            if len(basis) == MAX_SEARCH_RESULTS:
                break
        hits = identity_hits(db, sorted(basis))
        entry = append_and_commit(
            db,
            actor_for_log(viewer, actor),
            Event(
                kind="disclosure",
                tag=DisclosureTag.client_search_read.value,
                outcome=(DisclosureOutcome.disclosed if hits else DisclosureOutcome.withheld).value,
                purpose=purpose.value,
                categories=[C.identity.value] if hits else [],
                policy_version=policy.version,
                detail={
                    "person_ids": sorted(basis),
                    "basis": {str(pid): b for pid, b in sorted(basis.items())},
                    "withheld_count": len(candidates) - len(basis),
                },
            ),
        )
    return SearchResults(
        hits=hits, purpose=purpose, policy_version=policy.version, log_seq=entry.seq
    )


def identity_hits(db: Session, person_ids: list[int]) -> tuple[SearchHit, ...]:
    if not person_ids:
        return ()
    aliases: dict[int, list[str]] = {}
    for pid, alias in db.exec(
        select(PersonAlias.person_id, PersonAlias.name)
        .where(col(PersonAlias.person_id).in_(person_ids))
        .order_by(col(PersonAlias.id))
    ).all():
        aliases.setdefault(pid, []).append(alias)
    rows = read_rows(db, Person, {C.identity}, col(Person.id).in_(person_ids), Person.id)
    return tuple(
        SearchHit(
            person_id=row["id"],
            identity=build_entry(Identity, row, aliases=tuple(aliases.get(row["id"], []))),
        )
        for row in rows
    )
