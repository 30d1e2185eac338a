"""The policy's answer for one category of many clients, as a SQL condition on a person id.

hub.disclosure.policy decides in Python from the facts it gathers (`allows`). A work list that
orders, filters and counts thousands of rows by a field the policy may withhold (the
prosecutor's queue orders by the intake clock, which is engagement: a 42 CFR 2.35 consent or a
court order) cannot gather facts for every row each time; this module states the same rules
as a SQL condition, the way hub.disclosure.origin states "Part 2 by source", so that the
database answers for every row at once. It is the policy layer's: the same hard rules
(admin, the policy group, the enforcement rule, research, 2.35 consents for engagement only,
treatment only on a Part 2 consent), the same compiled grant lines, the same active consents
(hub.consents.services.is_active) and confirmed, unexpired court orders.

It covers the relationships and conditions the lines in question use: `everyone` and
`office_matter`; `none` and the consent conditions. For anything else `allowed_clause` answers
None and the caller asks `hub.disclosure.record.allowed_persons` instead (fail closed: never a
guess). tests/test_grants_sql.py checks that it answers as `allows` does.
"""

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Text, and_, cast, false, func, or_, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.charging.models import ChargingMatter
from hub.consents.models import Consent
from hub.db import utcnow
from hub.disclosure.models import CourtOrder
from hub.disclosure.policy import _CONSENT_CONDITIONS, RESEARCH_CATEGORIES, CompiledPolicy
from hub.disclosure.releases import policy_in_force
from hub.referrals.models import Referral
from hub.vocabulary import (
    AGGREGATE_ONLY_ROLES,
    ENFORCEMENT_ROLES,
    PART2_CATEGORIES,
    PROTECTED_HEALTH_CATEGORIES,
    Category,
    ConsentKind,
    PolicyCondition,
    Purpose,
    Relationship,
    Role,
)

# Aliases of their own, made once: the condition is read inside a work list's query of these
# same tables, which must not correlate with them (and once, for the compiled-query cache).
_REFERRAL = aliased(Referral)
_MATTER = aliased(ChargingMatter)

# What str.strip() removes from the ASCII range: a consent element of blanks is missing.
_BLANKS = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def _lists(column: Any, name: str) -> ColumnElement[bool]:
    """Whether a JSON list of names holds `name`: its text holds the name in quotes (a JSON
    string cannot hold an unescaped quote, so this is an element, not part of one)."""
    return cast(column, Text).like(f'%"{name}"%')


def _filled(column: Any) -> ColumnElement[bool]:
    # ltrim/rtrim with characters: the same in SQLite and PostgreSQL (trim's is not).
    return and_(column.is_not(None), func.ltrim(func.rtrim(column, _BLANKS), _BLANKS) != "")


def _active_consent(now: datetime) -> ColumnElement[bool]:
    """hub.consents.services.is_active (and gather_facts_many's revoked_at IS NULL) in SQL."""
    today = now.date()
    return and_(
        col(Consent.revoked_at).is_(None),
        col(Consent.discloser_agency_id).is_not(None),
        _filled(col(Consent.description)),
        cast(col(Consent.categories), Text) != "[]",
        cast(col(Consent.purposes), Text) != "[]",
        or_(
            col(Consent.recipient_user_id).is_not(None),
            col(Consent.recipient_agency_id).is_not(None),
            col(Consent.recipient_agency_kind).is_not(None),
        ),
        _filled(col(Consent.right_to_revoke)),
        or_(col(Consent.expires_on).is_not(None), _filled(col(Consent.expiry_event))),
        col(Consent.signature_on_file).is_(True),
        _filled(col(Consent.signed_by)),
        col(Consent.signed_on) <= today,
        or_(col(Consent.expires_on).is_(None), col(Consent.expires_on) >= today),
        or_(col(Consent.expiry_event_at).is_(None), col(Consent.expiry_event_at) > now),
    )


def _consent(
    viewer: Viewer,
    person_id: Any,
    purpose: Purpose,
    category: Category,
    condition: PolicyCondition,
    now: datetime,
) -> ColumnElement[bool]:
    """policy._condition_basis for a consent condition (not Part 2 data by its source)."""
    named = [col(Consent.recipient_user_id) == viewer.user_id]
    named.append(col(Consent.recipient_agency_id) == viewer.agency_id)
    if condition != PolicyCondition.consent_naming_office:
        named.append(col(Consent.recipient_agency_kind) == viewer.agency_kind)
    kinds = []
    if category in PART2_CATEGORIES:
        kinds.append(col(Consent.kind) == ConsentKind.part2)  # hard rule 4
    if category != Category.engagement:
        kinds.append(col(Consent.kind) != ConsentKind.criminal_justice_referral)  # hard rule 5
    if condition == PolicyCondition.consent_2_35:
        kinds.append(col(Consent.kind) == ConsentKind.criminal_justice_referral)
    return (
        select(col(Consent.id))
        .where(
            col(Consent.person_id) == person_id,
            # The kind before the lists' text: cheaper, and it rules out most consents first.
            *kinds,
            _lists(col(Consent.categories), category.value),
            _lists(col(Consent.purposes), purpose.value),
            or_(*named),
            _active_consent(now),
        )
        .exists()
    )


def _court_order(
    viewer: Viewer, person_id: Any, purpose: Purpose, category: Category, now: datetime
) -> ColumnElement[bool]:
    """A confirmed order in force naming the viewer's agency, this category and purpose."""
    today = now.date()
    return (
        select(col(CourtOrder.id))
        .where(
            col(CourtOrder.person_id) == person_id,
            col(CourtOrder.recipient_agency_id) == viewer.agency_id,
            col(CourtOrder.issued_on) <= today,
            col(CourtOrder.confirmed_at) <= now,
            or_(col(CourtOrder.expires_on).is_(None), col(CourtOrder.expires_on) >= today),
            _lists(col(CourtOrder.categories), category.value),
            _lists(col(CourtOrder.purposes), purpose.value),
        )
        .exists()
    )


def _relationship(
    viewer: Viewer, person_id: Any, relationship: Relationship, holds: frozenset[Relationship]
) -> ColumnElement[bool] | None:
    if relationship == Relationship.everyone or relationship in holds:
        return true()
    if relationship == Relationship.office_matter:
        return or_(
            select(_REFERRAL.id)
            .where(
                _REFERRAL.person_id == person_id,
                _REFERRAL.forwarded_to_agency_id == viewer.agency_id,
            )
            .exists(),
            select(_MATTER.id)
            .where(
                _MATTER.person_id == person_id,
                _MATTER.prosecuting_agency_id == viewer.agency_id,
            )
            .exists(),
        )
    return None


# The relationships and conditions this module states; a grant line using another leaves the
# question to the policy (hub.disclosure.record.allowed_persons).
_STATED_RELATIONSHIPS = frozenset({Relationship.everyone, Relationship.office_matter})


def _hard_rule(viewer: Viewer, purpose: Purpose, category: Category) -> str | None:
    """The hard rule that answers before the grant lines: "never", "court order" or None."""
    if viewer.role == Role.admin or viewer.role in AGGREGATE_ONLY_ROLES:
        return "never"
    if category in PROTECTED_HEALTH_CATEGORIES and (
        viewer.role in ENFORCEMENT_ROLES or purpose == Purpose.charging_decision
    ):
        return "court order"
    if purpose == Purpose.research and category not in RESEARCH_CATEGORIES:
        return "never"
    return None


def states(viewer: Viewer, purpose: Purpose, category: Category, policy: CompiledPolicy) -> bool:
    """Whether `allowed_clause` can state this question (without building it)."""
    if _hard_rule(viewer, purpose, category) is not None:
        return True
    return all(
        relationship in _STATED_RELATIONSHIPS
        and all(c == PolicyCondition.none or c in _CONSENT_CONDITIONS for c in conditions)
        for relationship, conditions in policy.grants.get(
            (viewer.role, purpose, category), {}
        ).items()
    )


def allowed_clause(
    viewer: Viewer,
    person_id: Any,
    purpose: Purpose,
    category: Category,
    policy: CompiledPolicy,
    now: datetime,
    holds: frozenset[Relationship] = frozenset(),
) -> ColumnElement[bool] | None:
    """True for the persons (`person_id`, a column or correlated expression) whose `category`
    `policy` lets this viewer see for this purpose at `now`, as
    hub.disclosure.policy.allows(viewer, gather_facts(...), purpose, category, policy) says;
    None where the grant lines need what this module does not state (ask the policy then).
    Data of this category that a Part 2 program recorded is not covered (hard rule 7).
    `holds`: relationships the caller's own query guarantees for every row it reads (the
    prosecutor's queue reads only the office's matters: office_matter), so not read again."""
    if not states(viewer, purpose, category, policy):
        return None
    rule = _hard_rule(viewer, purpose, category)
    if rule == "never":
        return false()
    order = _court_order(viewer, person_id, purpose, category, now)
    if rule == "court order":
        return order
    grants: list[ColumnElement[bool]] = [order]
    for relationship, conditions in policy.grants.get((viewer.role, purpose, category), {}).items():
        related = _relationship(viewer, person_id, relationship, holds)
        assert related is not None  # states() said so
        met: list[ColumnElement[bool]] = [
            true()
            if condition == PolicyCondition.none
            else _consent(viewer, person_id, purpose, category, condition, now)
            for condition in conditions
        ]
        # The condition first: most clients have none, and then the relationship is not read.
        grants.append(and_(or_(false(), *met), related))
    return or_(*grants)


class PersonClause(Protocol):
    """`allowed_clause` for a person id column given later (see clause_in_force)."""

    def __call__(
        self, person_id: Any, holds: frozenset[Relationship] = frozenset()
    ) -> ColumnElement[bool]: ...


def clause_in_force(
    db: Session, viewer: Viewer, purpose: Purpose, category: Category
) -> PersonClause | None:
    """`allowed_clause` under the policy in force now, for a person id column to be given
    later (a work list's own query reads it beside its rows; selecting it decides and shows
    nothing, so it logs nothing, as record.allowed_persons); None where it cannot say (ask
    record.allowed_persons then)."""
    policy, now = policy_in_force(db), utcnow()
    if not states(viewer, purpose, category, policy):
        return None

    def clause(person_id: Any, holds: frozenset[Relationship] = frozenset()) -> ColumnElement[bool]:
        answer = allowed_clause(viewer, person_id, purpose, category, policy, now, holds)
        assert answer is not None  # the same policy, asked the same question
        return answer

    return clause
