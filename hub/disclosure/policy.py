"""The one policy layer: what of a client's record a viewer may see, category by category.

    facts = gather_facts(db, viewer, person_id, now)    # relationships, consents, orders, ...
    decision = decide(viewer, facts, purpose)           # pure: no database, a table look-up

The grants come from policies/model.conf + policies/policy.csv (pycasbin), compiled once per
policy version into a look-up table. The hard rules below are applied here, in code, around
that table, and no policy line or consent can override them (they are repeated as comments at
the top of policies/policy.csv):

1. deny by default;
2. the admin role sees no client data;
3. health and treatment never reach police or prosecution users, nor a charging decision
   (42 CFR 2.12(d)), unless a court order under 42 CFR 2.64/2.65 for that client, agency,
   category and purpose says otherwise;
4. treatment goes out on a consent only if it is a Part 2 consent (42 CFR 2.31);
5. a 42 CFR 2.35 criminal-justice-referral consent covers engagement only;
6. research reads are de-identified: demographics and referral only;
7. Part 2 by source (42 CFR 2.11): what a Part 2 program records, in any category, is decided
   with rules 3 and 4 as if it were treatment (`Decision.allows_part2`; hub.disclosure.origin).
8. the policy group (AGGREGATE_ONLY_ROLES) sees no client-level field; its counts go through
   hub.disclosure.aggregates.

hub.disclosure.record reads the data a decision allows and logs the disclosure.
"""

import hashlib
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import CompoundSelect, Integer, String, cast, literal, null, union_all
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from hub.accounts.models import User
from hub.accounts.sessions import Viewer
from hub.charging.models import ChargingMatter
from hub.clients.models import ClientAssignment, Person
from hub.consents.models import Consent
from hub.consents.services import CONSENT_TERMS, is_active
from hub.db import ident
from hub.disclosure.models import BreakGlass, CourtOrder
from hub.referrals.models import Referral
from hub.settings import PROJECT_ROOT, get_settings
from hub.vocabulary import (
    AGGREGATE_ONLY_ROLES,
    ENFORCEMENT_ROLES,
    PART2_CATEGORIES,
    PROTECTED_HEALTH_CATEGORIES,
    AgencyKind,
    AssignmentKind,
    Category,
    ConsentKind,
    PolicyCondition,
    Purpose,
    Relationship,
    Role,
    WithheldReason,
)

POLICY_DIR = PROJECT_ROOT / "policies"
# Not a category of its own: whether the person is a participant at all, yes or no (the
# officer_sees_participation site setting). The policy file grants it like a category.
PARTICIPATION = "participation"
# Hard rule 6: what a research read may ever disclose.
RESEARCH_CATEGORIES = frozenset({Category.demographics, Category.referral})
# Withheld for want of one of these relationships reads "not on caseload".
_OWN_CLIENT_RELATIONSHIPS = frozenset(
    {Relationship.caseload, Relationship.defense_client, Relationship.agency_client}
)
_CONSENT_CONDITIONS = frozenset(
    {
        PolicyCondition.consent,
        PolicyCondition.consent_naming_office,
        PolicyCondition.consent_2_35,
    }
)


class PolicyError(ValueError):
    """The policy files are malformed; the hub refuses to decide on them (fail closed)."""


class PersonNotFound(LookupError):
    """No client with that id."""


# --- the compiled policy ----------------------------------------------------------------------

# (role, purpose, category or PARTICIPATION) -> relationship -> conditions, each enough alone
GrantTable = Mapping[tuple[Role, Purpose, str], Mapping[Relationship, tuple[PolicyCondition, ...]]]


@dataclass(frozen=True)
class CompiledPolicy:
    version: str  # SHA-256 of model.conf + policy.csv: written into every log entry
    grants: GrantTable
    # (role, category) -> purposes for which some line grants it: tells "wrong purpose" apart
    purposes_granted: Mapping[tuple[Role, str], frozenset[Purpose]]
    lines: int


def policy_version(model_text: str, policy_text: str) -> str:
    digest = hashlib.sha256()
    for text in (model_text, policy_text):
        data = text.encode()
        # Length-prefixed, so no two different pairs of files share a version.
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


_TOKENS: tuple[tuple[str, frozenset[str]], ...] = (
    ("role", frozenset(Role)),
    ("relationship", frozenset(Relationship)),
    ("category", frozenset(Category) | {PARTICIPATION}),
    ("purpose", frozenset(Purpose)),
    ("condition", frozenset(PolicyCondition)),
)


def _policy_lines(policy_text: str) -> list[str]:
    """The policy lines, checked: a misspelt name would silently grant nothing, so refuse it."""
    lines = []
    for number, raw in enumerate(policy_text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        tokens = [token.strip() for token in line.split(",")]
        if tokens[0] != "p" or len(tokens) != 6:
            raise PolicyError(
                f"policy.csv line {number}: expected p, role, relationship, "
                "category, purpose, condition"
            )
        for (what, known), token in zip(_TOKENS, tokens[1:], strict=True):
            if token not in known:
                raise PolicyError(f"policy.csv line {number}: unknown {what} {token!r}")
        lines.append(", ".join(tokens))
    return lines


def compile_policy(model_text: str, policy_text: str) -> CompiledPolicy:
    """Asks casbin once about every role x relationship x category x purpose (and each
    condition where any line matches) and keeps the answers: a decision is then a look-up."""
    import casbin
    from casbin.model import FastModel
    from casbin.persist.adapters.string_adapter import StringAdapter

    lines = _policy_lines(policy_text)
    # FastEnforcer narrows each question to the lines with the same role, relationship,
    # category and purpose before it evaluates the matcher.
    key_order = [0, 1, 2, 3]
    model = FastModel(key_order)
    model.load_model_from_text(model_text)
    enforcer = casbin.FastEnforcer(
        model, StringAdapter("\n".join(lines) or "# empty"), cache_key_order=key_order
    )
    grants: dict[tuple[Role, Purpose, str], dict[Relationship, tuple[PolicyCondition, ...]]] = {}
    purposes: dict[tuple[Role, str], set[Purpose]] = defaultdict(set)
    categories = [*Category, PARTICIPATION]
    for role in Role:
        for purpose in Purpose:
            for category in categories:
                for relationship in Relationship:
                    request = (role.value, relationship.value, str(category), purpose.value)
                    if not enforcer.enforce(*request, "*"):
                        continue
                    conditions = tuple(c for c in PolicyCondition if enforcer.enforce(*request, c))
                    grants.setdefault((role, purpose, str(category)), {})[relationship] = conditions
                    purposes[(role, str(category))].add(purpose)
    return CompiledPolicy(
        version=policy_version(model_text, policy_text),
        grants=grants,
        purposes_granted={key: frozenset(value) for key, value in purposes.items()},
        lines=len(lines),
    )


_COMPILED: dict[str, CompiledPolicy] = {}  # version -> policy, the last few
_COMPILE_LOCK = threading.Lock()


def compiled(model_text: str, policy_text: str, version: str | None = None) -> CompiledPolicy:
    """The two texts compiled, once per version per process (a compilation asks casbin a few
    thousand questions: a fraction of a second). `version`, when given, must be theirs."""
    actual = policy_version(model_text, policy_text)
    if version is not None and version != actual:
        raise PolicyError("the policy texts do not match their version")
    # One thread at a time: request threads meeting a new version together (a worker's start
    # under load, a new release) would compile it several times over, and casbin's ast.parse is
    # not thread-safe on CPython 3.11 (SystemError "AST constructor recursion depth mismatch",
    # gh-106905): bench/crash.py saw those as 500s after each start under load.
    with _COMPILE_LOCK:
        policy = _COMPILED.get(actual)
        if policy is None:
            policy = compile_policy(model_text, policy_text)
            while len(_COMPILED) >= 8:
                del _COMPILED[next(iter(_COMPILED))]
            _COMPILED[actual] = policy
    return policy


def load_policy(directory: Path | None = None) -> CompiledPolicy:
    """The policy in the files of `directory` (policies/ by default), compiled once per version.

    The files are the policy in force only until a policy is released into the database; a
    decision takes the policy in force from hub.disclosure.releases.policy_in_force(db)."""
    directory = directory or POLICY_DIR
    model_text = (directory / "model.conf").read_text()
    policy_text = (directory / "policy.csv").read_text()
    return compiled(model_text, policy_text)


# --- facts --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentFact:
    """An active consent, as much of it as the policy reads."""

    id: int
    kind: ConsentKind
    categories: frozenset[Category]
    purposes: frozenset[Purpose]
    recipient_user_id: int | None = None
    recipient_agency_id: int | None = None
    recipient_agency_kind: AgencyKind | None = None

    def names_office(self, viewer: Viewer) -> bool:
        return self.recipient_user_id == viewer.user_id or (
            self.recipient_agency_id == viewer.agency_id
        )

    def names(self, viewer: Viewer) -> bool:
        return self.names_office(viewer) or self.recipient_agency_kind == viewer.agency_kind


@dataclass(frozen=True)
class CourtOrderFact:
    """A confirmed, unexpired order in force for this client naming the viewer's agency."""

    id: int
    categories: frozenset[Category]
    purposes: frozenset[Purpose]


@dataclass(frozen=True)
class Facts:
    """Everything the policy reads about one viewer and one client, gathered in one go."""

    person_id: int
    relationships: frozenset[Relationship] = frozenset({Relationship.everyone})
    consents: tuple[ConsentFact, ...] = ()
    court_orders: tuple[CourtOrderFact, ...] = ()
    break_glass_id: int | None = None
    officer_sees_participation: bool = False


def gather_facts(db: Session, viewer: Viewer, person_id: int, now: datetime) -> Facts:
    """The facts for one client; raises PersonNotFound."""
    facts = gather_facts_many(db, viewer, [person_id], now)
    if person_id not in facts:
        raise PersonNotFound(f"No client with id {person_id}.")
    return facts[person_id]


def gather_facts_many(
    db: Session, viewer: Viewer, person_ids: Iterable[int], now: datetime
) -> dict[int, Facts]:
    """The facts for several clients in one set of queries (search results); clients that do
    not exist are left out."""
    ids = sorted(set(person_ids))
    existing: set[int] = set()
    relationships: dict[int, set[Relationship]] = defaultdict(lambda: {Relationship.everyone})
    for source, pid, kind, user_id, agency_id, cm_agency, forwarded_to in db.execute(
        _relationship_rows(viewer, ids)
    ).all():
        if source == "person":
            existing.add(pid)
        elif source == "assignment":
            if user_id == viewer.user_id and kind == AssignmentKind.caseload:
                relationships[pid].add(Relationship.caseload)
            if user_id == viewer.user_id and kind == AssignmentKind.defense:
                relationships[pid].add(Relationship.defense_client)
            if agency_id == viewer.agency_id and kind == AssignmentKind.caseload:
                relationships[pid].add(Relationship.agency_client)
        elif source == "referral":
            if user_id == viewer.user_id:
                relationships[pid].add(Relationship.own_referral)
            if agency_id == viewer.agency_id:
                relationships[pid].add(Relationship.agency_referral)
            if cm_agency == viewer.agency_id:
                relationships[pid].add(Relationship.agency_client)
            if forwarded_to == viewer.agency_id:
                relationships[pid].add(Relationship.office_matter)
        elif source == "matter":
            relationships[pid].add(Relationship.office_matter)
    if not existing or viewer.role == Role.admin:
        # Hard rule 2: nothing about any client is needed to withhold everything from an admin.
        return {pid: Facts(person_id=pid) for pid in existing}

    consents: dict[int, list[ConsentFact]] = defaultdict(list)
    # Rows of the columns is_active and ConsentFact read, not Consent objects: a search or a
    # queue reads hundreds of consents, and building ORM objects was most of the cost.
    for consent in db.execute(
        core_select(*(getattr(Consent, name) for name in _CONSENT_COLUMNS)).where(
            col(Consent.person_id).in_(existing), col(Consent.revoked_at).is_(None)
        )
    ).all():
        if is_active(consent, now):
            consents[consent.person_id].append(_consent_fact(consent))

    today = now.date()
    orders: dict[int, list[CourtOrderFact]] = defaultdict(list)
    for order in db.exec(
        select(CourtOrder).where(
            col(CourtOrder.person_id).in_(existing),
            CourtOrder.recipient_agency_id == viewer.agency_id,
            col(CourtOrder.issued_on) <= today,
            # Recorded by one privacy officer, in force once another confirmed it (AC-5).
            col(CourtOrder.confirmed_at) <= now,
        )
    ).all():
        if order.expires_on is None or order.expires_on >= today:
            orders[order.person_id].append(
                CourtOrderFact(
                    id=ident(order.id),
                    categories=_known(Category, order.categories),
                    purposes=_known(Purpose, order.purposes),
                )
            )

    break_glass: dict[int, int] = {}
    if viewer.role == Role.privacy_officer:
        for glass_id, pid in db.exec(
            select(BreakGlass.id, BreakGlass.person_id).where(
                col(BreakGlass.person_id).in_(existing),
                BreakGlass.user_id == viewer.user_id,
                col(BreakGlass.opened_at) <= now,
                col(BreakGlass.expires_at) > now,
            )
        ).all():
            break_glass[pid] = glass_id  # type: ignore[assignment]

    participation = get_settings().officer_sees_participation
    return {
        pid: Facts(
            person_id=pid,
            relationships=frozenset(relationships[pid]),
            consents=tuple(consents[pid]),
            court_orders=tuple(orders[pid]),
            break_glass_id=break_glass.get(pid),
            officer_sees_participation=participation,
        )
        for pid in existing
        if pid is not None
    }


def _relationship_rows(viewer: Viewer, ids: list[int]) -> CompoundSelect:
    """One statement for what ties the viewer to each client, instead of four: which of the
    ids exist ("person"), open assignments ("assignment": kind, user, the user's agency),
    referrals ("referral": referring user and agency, case-management agency, agency the
    arrest went to) and the viewer's office's charging matters ("matter"). Every request that
    discloses asks this, so the round trips count. Rows: (source, person_id, kind, user_id,
    agency_id, case_management_agency_id, forwarded_to_agency_id), NULL where not applicable.
    """
    no_text, no_id = cast(null(), String), cast(null(), Integer)
    persons = core_select(
        literal("person"), col(Person.id), no_text, no_id, no_id, no_id, no_id
    ).where(col(Person.id).in_(ids))
    assignments = (
        core_select(
            literal("assignment"),
            col(ClientAssignment.person_id),
            col(ClientAssignment.kind),
            col(ClientAssignment.user_id),
            col(User.agency_id),
            no_id,
            no_id,
        )
        .join(User, col(User.id) == ClientAssignment.user_id)
        .where(col(ClientAssignment.person_id).in_(ids), col(ClientAssignment.ended_at).is_(None))
    )
    referrals = core_select(
        literal("referral"),
        col(Referral.person_id),
        no_text,
        col(Referral.referring_user_id),
        col(Referral.referring_agency_id),
        col(Referral.case_management_agency_id),
        col(Referral.forwarded_to_agency_id),
    ).where(col(Referral.person_id).in_(ids))
    matters = core_select(
        literal("matter"), col(ChargingMatter.person_id), no_text, no_id, no_id, no_id, no_id
    ).where(
        col(ChargingMatter.person_id).in_(ids),
        col(ChargingMatter.prosecuting_agency_id) == viewer.agency_id,
    )
    return union_all(persons, assignments, referrals, matters)


_E = TypeVar("_E", Category, Purpose)


_NAMES: dict[type, frozenset[str]] = {
    enum: frozenset(enum.__members__) for enum in (Category, Purpose)
}
_CONSENT_COLUMNS = ("id", "kind", *CONSENT_TERMS)


def _known(enum: type[_E], values: Iterable[str]) -> frozenset[_E]:
    # A stored name the vocabulary no longer knows grants nothing (fail closed).
    names = _NAMES[enum]
    return frozenset(enum(v) for v in values if v in names)


def _consent_fact(consent: Any) -> ConsentFact:
    """`consent`: a row of _CONSENT_COLUMNS (or a Consent)."""
    return ConsentFact(
        id=consent.id,
        kind=consent.kind,
        categories=_known(Category, consent.categories),
        purposes=_known(Purpose, consent.purposes),
        recipient_user_id=consent.recipient_user_id,
        recipient_agency_id=consent.recipient_agency_id,
        recipient_agency_kind=consent.recipient_agency_kind,
    )


# --- the decision -------------------------------------------------------------------------------


# Iterating an Enum class builds its member list anew each time; an agenda asks this per item.
CATEGORY_ORDER: tuple[Category, ...] = tuple(Category)


@dataclass(frozen=True)
class Decision:
    """What one viewer may see of one client for one purpose: a legal basis for every
    disclosed category, a reason for every withheld one. Every category is in exactly one."""

    person_id: int
    purpose: Purpose
    role: Role
    policy_version: str
    disclosed: Mapping[Category, str]  # category -> basis, e.g. "relationship:caseload"
    withheld: Mapping[Category, WithheldReason]
    # Basis on which the viewer may learn whether the client is a participant, if any.
    participation: str | None = None
    consent_ids: frozenset[int] = field(default_factory=frozenset)
    # Hard rule 7: the decision for data of each category recorded by a Part 2 program.
    part2_disclosed: Mapping[Category, str] = field(default_factory=dict)
    part2_withheld: Mapping[Category, WithheldReason] = field(default_factory=dict)

    def allows(self, category: Category) -> bool:
        return category in self.disclosed

    def allows_part2(self, category: Category) -> bool:
        """Whether data of this category that is Part 2 by its source may be shown."""
        return category in self.disclosed and category in self.part2_disclosed

    def part2_reason(self, category: Category) -> WithheldReason:
        """Why Part 2 data of this category is withheld (the category's own reason first)."""
        if category not in self.disclosed:
            return self.withheld[category]
        return self.part2_withheld.get(category, WithheldReason.part2)

    @property
    def categories(self) -> list[Category]:
        """The disclosed categories, in the vocabulary's order."""
        return [c for c in CATEGORY_ORDER if c in self.disclosed]


def decide(
    viewer: Viewer, facts: Facts, purpose: Purpose, policy: CompiledPolicy | None = None
) -> Decision:
    """Decides every category of one client's record for this viewer and purpose, under
    `policy`: give it hub.disclosure.releases.policy_in_force(db). Without one it decides
    under the files in policies/ (the decision tables, and tests of a database with no
    release, where that is the policy in force)."""
    policy = policy or load_policy()
    disclosed: dict[Category, str] = {}
    withheld: dict[Category, WithheldReason] = {}
    part2_disclosed: dict[Category, str] = {}
    part2_withheld: dict[Category, WithheldReason] = {}
    for category in Category:
        basis, reason = _decide_one(viewer, facts, purpose, policy, category)
        if basis is not None:
            disclosed[category] = basis
        else:
            withheld[category] = reason
        basis, reason = _decide_one(viewer, facts, purpose, policy, category, part2=True)
        if basis is not None:
            part2_disclosed[category] = basis
        else:
            part2_withheld[category] = reason
    participation = None
    if (
        viewer.role != Role.admin
        and viewer.role not in AGGREGATE_ONLY_ROLES
        and purpose != Purpose.research
    ):
        participation, _ = _granted(viewer, facts, purpose, policy, PARTICIPATION)
    consent_ids = frozenset(
        int(b.split(":", 1)[1]) for b in disclosed.values() if b.startswith("consent:")
    )
    return Decision(
        person_id=facts.person_id,
        purpose=purpose,
        role=viewer.role,
        policy_version=policy.version,
        disclosed=disclosed,
        withheld=withheld,
        participation=participation,
        consent_ids=consent_ids,
        part2_disclosed=part2_disclosed,
        part2_withheld=part2_withheld,
    )


def allows(
    viewer: Viewer,
    facts: Facts,
    purpose: Purpose,
    category: Category,
    policy: CompiledPolicy | None = None,
) -> bool:
    """Whether `decide` would disclose this one category: the same rules, without deciding
    the other categories (a work list that asks one question of many clients)."""
    basis, _ = _decide_one(viewer, facts, purpose, policy or load_policy(), category)
    return basis is not None


def _decide_one(
    viewer: Viewer,
    facts: Facts,
    purpose: Purpose,
    policy: CompiledPolicy,
    category: Category,
    *,
    part2: bool = False,
) -> tuple[str | None, WithheldReason]:
    """`part2`: for data of this category that a Part 2 program recorded (hard rule 7)."""
    if viewer.role == Role.admin:
        return None, WithheldReason.admin
    if viewer.role in AGGREGATE_ONLY_ROLES:
        # Issue 16: the Policy Coordinating Group sees aggregates only; not even a court order
        # opens a client's record to it.
        return None, WithheldReason.deny_by_default
    # 42 CFR 2.64/2.65: a court order, as far as it goes, is a basis of its own and the only
    # one that lifts the enforcement rule.
    # Part 2 data by its source is treatment data: its order must name treatment too.
    order = next(
        (
            o
            for o in facts.court_orders
            if category in o.categories
            and purpose in o.purposes
            and (not part2 or Category.treatment in o.categories)
        ),
        None,
    )
    if (part2 or category in PROTECTED_HEALTH_CATEGORIES) and (
        viewer.role in ENFORCEMENT_ROLES or purpose == Purpose.charging_decision
    ):
        if order is None:
            return None, WithheldReason.enforcement_rule
    elif purpose == Purpose.research and category not in RESEARCH_CATEGORIES:
        return None, WithheldReason.wrong_purpose
    if order is not None:
        return f"court_order:{order.id}", WithheldReason.deny_by_default
    return _granted(viewer, facts, purpose, policy, category, part2=part2)


def _granted(
    viewer: Viewer,
    facts: Facts,
    purpose: Purpose,
    policy: CompiledPolicy,
    category: str,
    *,
    part2: bool = False,
) -> tuple[str | None, WithheldReason]:
    lines = policy.grants.get((viewer.role, purpose, category))
    if not lines:
        if policy.purposes_granted.get((viewer.role, category)):
            return None, WithheldReason.wrong_purpose  # granted, but for other purposes
        return None, WithheldReason.deny_by_default
    reason = WithheldReason.deny_by_default
    for relationship in lines:
        if relationship not in facts.relationships:
            continue
        for condition in lines[relationship]:
            basis = _condition_basis(
                viewer, facts, purpose, category, relationship, condition, part2
            )
            if basis is not None:
                return basis, reason
            reason = _unmet_reason(category, condition, reason, part2)
    if reason == WithheldReason.deny_by_default and lines.keys() - facts.relationships:
        # Granted for clients related to the viewer, and this one is not.
        if _OWN_CLIENT_RELATIONSHIPS & lines.keys():
            return None, WithheldReason.not_on_caseload
        return None, WithheldReason.not_related
    return None, reason


def _condition_basis(
    viewer: Viewer,
    facts: Facts,
    purpose: Purpose,
    category: str,
    relationship: Relationship,
    condition: PolicyCondition,
    part2: bool = False,
) -> str | None:
    if condition == PolicyCondition.none:
        return "role" if relationship == Relationship.everyone else f"relationship:{relationship}"
    if condition == PolicyCondition.break_glass:
        return None if facts.break_glass_id is None else f"break_glass:{facts.break_glass_id}"
    if condition == PolicyCondition.site_participation:
        return "site:officer_sees_participation" if facts.officer_sees_participation else None
    for consent in facts.consents:
        if category not in consent.categories or purpose not in consent.purposes:
            continue
        if (part2 or category in PART2_CATEGORIES) and consent.kind != ConsentKind.part2:
            continue  # hard rules 4 and 7
        if (
            consent.kind == ConsentKind.criminal_justice_referral
            and category != Category.engagement
        ):
            continue  # hard rule 5
        if (
            condition == PolicyCondition.consent_2_35
            and consent.kind != ConsentKind.criminal_justice_referral
        ):
            continue
        named = (
            consent.names_office(viewer)
            if condition == PolicyCondition.consent_naming_office
            else consent.names(viewer)
        )
        if named:
            return f"consent:{consent.id}"
    return None


def _unmet_reason(
    category: str, condition: PolicyCondition, previous: WithheldReason, part2: bool = False
) -> WithheldReason:
    if condition in _CONSENT_CONDITIONS:
        if part2 or category in PART2_CATEGORIES:
            return WithheldReason.part2
        return WithheldReason.no_consent
    if condition == PolicyCondition.break_glass:
        return WithheldReason.break_glass_required
    return previous
