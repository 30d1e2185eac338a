"""Naming the clients of a list (a queue, an agenda, a caseload) through the policy: one
decision per client, one log entry for the list, and the clients a viewer may name."""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append_and_commit
from hub.db import rollback_on_error, utcnow
from hub.disclosure.field_map import C
from hub.disclosure.policy import (
    allows,
    decide,
    gather_facts_many,
)
from hub.disclosure.record import actor_for_log
from hub.disclosure.record_search import identity_hits
from hub.disclosure.record_view import Identity, WithheldCategory
from hub.disclosure.releases import policy_in_force
from hub.vocabulary import (
    Category,
    DisclosureOutcome,
    DisclosureTag,
    Purpose,
    WithheldReason,
)


@dataclass(frozen=True)
class IdentityList:
    """Who the persons of a work list are (a queue, a list of referrals, duplicate candidates),
    as far as this viewer may know for this purpose. `identity(pid)` is the Identity or a
    WithheldCategory; `allows(pid, category)` says whether the caller may show its own fields
    of a further category (asked for with `with_categories`) next to that person."""

    purpose: Purpose
    policy_version: str
    log_seq: int | None  # None when the list was empty: nothing was read, nothing logged
    identities: Mapping[int, Identity]
    withheld: Mapping[int, WithheldReason]
    categories: Mapping[int, frozenset[Category]]

    def identity(self, person_id: int) -> Identity | WithheldCategory:
        found = self.identities.get(person_id)
        if found is not None:
            return found
        reason = self.withheld.get(person_id, WithheldReason.deny_by_default)
        return WithheldCategory(C.identity, reason)

    def allows(self, person_id: int, category: Category) -> bool:
        return category in self.categories.get(person_id, frozenset())


def disclose_identities(
    db: Session,
    viewer: Viewer,
    person_ids: Sequence[int],
    purpose: Purpose,
    actor: Actor,
    *,
    with_categories: Sequence[Category] = (),
    tag: DisclosureTag = DisclosureTag.client_list_read,
    with_identity: bool = True,
) -> IdentityList:
    """Identity (names, date of birth, aliases) of the listed persons whose identity this
    viewer may see for this purpose, and nothing of the others; decides `with_categories` per
    person too, for fields the caller shows from its own work list (a queue's offenses: legal).
    Logs one disclosure entry naming the persons and categories disclosed, and commits. An
    unknown id is left out; an empty list reads and logs nothing. `with_identity=False`: a
    page that names no one but shows its own fields of `with_categories` (a sergeant's
    overrides, a charging decision) decides and logs those only, and reads no identity."""
    ids = sorted(set(person_ids))
    policy = policy_in_force(db)
    if not ids:
        return IdentityList(purpose, policy.version, None, {}, {}, {})
    asked = {C.identity, *with_categories} if with_identity else set(with_categories)
    with rollback_on_error(db):
        facts = gather_facts_many(db, viewer, ids, utcnow())
        basis: dict[int, dict[Category, str]] = {}
        withheld: dict[int, WithheldReason] = {}
        for pid in sorted(facts):
            decision = decide(viewer, facts[pid], purpose, policy)
            granted = {c: b for c, b in decision.disclosed.items() if c in asked}
            if granted:
                basis[pid] = granted
            lead = C.identity if with_identity else with_categories[0]
            if lead not in decision.disclosed:
                withheld[pid] = decision.withheld[lead]
        identities = {
            hit.person_id: hit.identity
            for hit in identity_hits(db, sorted(p for p, b in basis.items() if C.identity in b))
        }
        disclosed = sorted(basis)
        entry = append_and_commit(
            db,
            actor_for_log(viewer, actor),
            Event(
                kind="disclosure",
                tag=tag.value,
                outcome=(
                    DisclosureOutcome.disclosed if disclosed else DisclosureOutcome.withheld
                ).value,
                purpose=purpose.value,
                # An entry about one person names them, so it is found like a record read.
                person_id=disclosed[0] if len(disclosed) == 1 else None,
                categories=sorted({c.value for b in basis.values() for c in b}),
                policy_version=policy.version,
                detail={
                    "person_ids": disclosed,
                    "basis": {
                        str(pid): {c.value: v for c, v in sorted(b.items())}
                        for pid, b in sorted(basis.items())
                    },
                    "withheld": {str(pid): r.value for pid, r in sorted(withheld.items())},
                },
            ),
        )
    return IdentityList(
        purpose=purpose,
        policy_version=policy.version,
        log_seq=entry.seq,
        identities=identities,
        withheld=withheld,
        categories={pid: frozenset(b) for pid, b in basis.items()},
    )


def allowed_persons(
    db: Session, viewer: Viewer, person_ids: Collection[int], purpose: Purpose, category: Category
) -> frozenset[int]:
    """Which of these persons' `category` the policy lets this viewer see for this purpose. It
    decides and shows nothing, so it logs nothing: a work list uses it to order every row whose
    field it may not show the same way (the order gives nothing away) before it pages, and then
    discloses only the rows of the page with `disclose_identities`."""
    ids = sorted(set(person_ids))
    if not ids:
        return frozenset()
    policy = policy_in_force(db)
    facts = gather_facts_many(db, viewer, ids, utcnow())
    return frozenset(
        pid for pid, fact in facts.items() if allows(viewer, fact, purpose, category, policy)
    )


def names_person(entry_person_id: int | None, detail: Mapping[str, Any] | None, pid: int) -> bool:
    """Whether a disclosure-log entry is about this person: a record read names them, a list
    or search entry lists them in detail.person_ids."""
    if entry_person_id is not None:
        return entry_person_id == pid
    return pid in (detail or {}).get("person_ids", [])
