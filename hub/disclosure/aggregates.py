"""Counts over many clients: decided and logged by the policy layer like any other disclosure.
An aggregate names no one, but it is still drawn from client data, so the read runs in the
transaction that logs it and nothing is returned unless the log entry commits. Two ways in:

- `disclose_aggregate` (the equity dashboard, issue 16): the purpose decides which categories
  counts over the whole program may draw on; no category a client-level hard rule protects
  (identity, contact, plan, housing, health, treatment) is ever counted.
- `decide_each` then `log_aggregate` (the prosecutor's period report, issue 15): decided person
  by person, so that a person the policy would not show this viewer does not count.

    allowed = decide_each(db, viewer, person_ids, purpose, (Category.legal, Category.engagement))
    ...compute from the allowed persons only...
    log_aggregate(db, viewer, actor, tag=..., purpose=..., categories=..., detail=...)
"""

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, TypeVar

from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append, append_and_commit, append_refusal
from hub.audit.models import LogEntry
from hub.db import utcnow
from hub.disclosure.policy import allows, gather_facts_many
from hub.disclosure.releases import policy_in_force
from hub.vocabulary import Category, DisclosureOutcome, DisclosureTag, Purpose

T = TypeVar("T")

# What counts may draw on, by purpose. Research follows hard rule 6 (demographics and referral
# only); oversight adds the legal and engagement facts the Policy Coordinating Group monitors.
AGGREGATE_CATEGORIES: dict[Purpose, frozenset[Category]] = {
    Purpose.oversight: frozenset(
        {Category.demographics, Category.referral, Category.legal, Category.engagement}
    ),
    Purpose.research: frozenset({Category.demographics, Category.referral}),
}


class AggregateRefused(PermissionError):
    """The aggregate would draw on a category its purpose does not allow."""


def disclose_aggregate(
    db: Session,
    actor: Actor,
    viewer: Viewer,
    purpose: Purpose,
    categories: frozenset[Category],
    view: str,
    read: Callable[[Session], T],
    detail: dict[str, Any] | None = None,
) -> T:
    """Runs `read` (counts only) and logs it as an aggregate disclosure in the same transaction;
    returns its result only once both have committed."""
    allowed = AGGREGATE_CATEGORIES.get(purpose, frozenset())
    if not categories <= allowed:
        db.rollback()
        append_refusal(
            db,
            actor,
            {
                "action": "aggregate",
                "view": view,
                "purpose": purpose.value,
                "categories": sorted(c.value for c in categories - allowed),
            },
        )
        raise AggregateRefused(view)
    policy = policy_in_force(db)
    result = read(db)
    append(
        db,
        actor,
        Event(
            kind="disclosure",
            tag=DisclosureTag.aggregate_read.value,
            outcome=DisclosureOutcome.disclosed.value,
            purpose=purpose.value,
            categories=sorted(c.value for c in categories),
            policy_version=policy.version,
            detail={"view": view, "role": viewer.role.value, **(detail or {})},
        ),
    )
    db.commit()
    return result


def decide_each(
    db: Session,
    viewer: Viewer,
    person_ids: Collection[int],
    purpose: Purpose,
    categories: Sequence[Category],
) -> Mapping[Category, frozenset[int]]:
    """For each category, the persons whose data of it the policy lets this viewer see for this
    purpose: one gathering of facts for all. Decides only; shows and logs nothing."""
    ids = sorted(set(person_ids))
    if not ids:
        return {c: frozenset() for c in categories}
    policy = policy_in_force(db)
    facts = gather_facts_many(db, viewer, ids, utcnow())
    return {
        c: frozenset(p for p, f in facts.items() if allows(viewer, f, purpose, c, policy))
        for c in categories
    }


def log_aggregate(
    db: Session,
    viewer: Viewer,
    actor: Actor,
    *,
    tag: DisclosureTag,
    purpose: Purpose,
    categories: Sequence[Category],
    detail: dict[str, Any],
) -> LogEntry:
    """The disclosure entry of an aggregate (a report, its CSV, its API answer): what it covered
    and how many persons, never who. Commits; if it cannot be written the caller shows nothing."""
    return append_and_commit(
        db,
        Actor(
            user_id=viewer.user_id,
            role=viewer.role.value,
            agency_id=viewer.agency_id,
            request_id=actor.request_id,
            address=actor.address,
        ),
        Event(
            kind="disclosure",
            tag=tag.value,
            outcome=DisclosureOutcome.disclosed.value,
            purpose=purpose.value,
            person_id=None,
            categories=sorted(c.value for c in categories),
            policy_version=policy_in_force(db).version,
            detail={"aggregate": True, **detail},
        ),
    )
