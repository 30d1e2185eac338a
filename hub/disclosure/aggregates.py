"""Counts over many clients (a dashboard, a quarterly report): decided and logged by the
policy layer like any other disclosure (issue 16).

An aggregate names no one, but it is still drawn from client data, so the purpose decides what
it may draw on, the read runs in the transaction that logs it, and nothing is returned unless
the log entry commits. No category a client-level hard rule protects (identity, contact, plan,
housing, health, treatment) is ever counted here.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append, append_refusal
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
