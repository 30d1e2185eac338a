"""Aggregates of client data (counts, shares, medians): decided person by person like any read,
so that a person the policy would not show this viewer does not count, and logged as one
disclosure entry that names no one, committed before the aggregate is shown.

    allowed = decide_each(db, viewer, person_ids, purpose, (Category.legal, Category.engagement))
    ...compute from the allowed persons only...
    log_aggregate(db, viewer, actor, tag=..., purpose=..., categories=..., detail=...)
"""

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append_and_commit
from hub.audit.models import LogEntry
from hub.db import utcnow
from hub.disclosure.policy import allows, gather_facts_many
from hub.disclosure.releases import policy_in_force
from hub.vocabulary import Category, DisclosureOutcome, DisclosureTag, Purpose


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
