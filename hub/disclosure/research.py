"""Reading client data for a research protocol (purpose research) through the policy.

    result = disclose_for_research(db, viewer, protocol, actor, prepare)

decides every client of the program for the research purpose, reads only the categories the
protocol's variables draw on and the decision (or the protocol) allows, hands what it read to
`prepare` (which de-identifies it and may refuse the export by raising), and appends one
disclosure entry per client included in the file, naming the client, so that each client's
accounting of disclosures lists the export, and commits. The file itself names no one: the
entries hold the hub's person ids, the file only per-study pseudonyms.

Hard rule 6 lets a research read disclose demographics and referral only; a confirmed protocol
in force is a fact of its own, like a court order: it adds engagement, and treatment only under
the program director's 42 CFR 2.52 determination (basis `research_protocol:<id>`).
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append_many
from hub.clients.models import Person, TreatmentRecord
from hub.db import rollback_on_error, utcnow
from hub.disclosure.policy import Decision, decide, gather_facts_many
from hub.disclosure.record import actor_for_log
from hub.disclosure.releases import policy_in_force
from hub.referrals.models import Referral
from hub.vocabulary import (
    Category,
    DisclosureOutcome,
    DisclosureTag,
    LogKind,
    Purpose,
)

R = TypeVar("R")
C = Category
DECIDE_CHUNK = 500


@dataclass(frozen=True)
class ProtocolFact:
    """A confirmed protocol in force, as much of it as the reader needs."""

    id: int
    categories: frozenset[Category]
    part2_conditions_met: bool


@dataclass(frozen=True)
class ResearchSource:
    """What was read of one client for a research file; None where the category was not read.
    The date of birth is read only to compute the age at referral and never leaves here."""

    person_id: int
    age_at_referral: int | None = None
    race_ethnicity: tuple[int, ...] | None = None
    gender: tuple[int, ...] | None = None
    precinct: str | None = None
    referral_year: int | None = None
    referral_kind: str | None = None
    offense_category: str | None = None
    eligibility: str | None = None
    intake_completed: bool | None = None
    program_status: str | None = None
    treatment_started_on: date | None = None
    in_treatment: bool | None = None


@dataclass(frozen=True)
class Prepared(Generic[R]):
    """What `prepare` hands back: the export, the clients included in it, and what the log
    entries should say about it (its digest, row count, k)."""

    result: R
    person_ids: Sequence[int]
    detail: Mapping[str, Any]


def research_basis(decision: Decision, protocol: ProtocolFact) -> dict[Category, str] | None:
    """The basis for each category the protocol draws on, or None if one is withheld."""
    basis: dict[Category, str] = {}
    for category in sorted(protocol.categories):
        if category in decision.disclosed:
            basis[category] = decision.disclosed[category]
        elif category == C.engagement:
            basis[category] = f"research_protocol:{protocol.id}"
        elif category == C.treatment and protocol.part2_conditions_met:
            basis[category] = f"research_protocol:{protocol.id}:42cfr2.52"
        else:
            return None
    return basis


def _age(born: date | None, on: date) -> int | None:
    if born is None:
        return None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def referred_persons(db: Session, agency_id: int | None = None) -> list[int]:
    """The ids of the persons with a referral (to this case-management agency): ids only,
    so that nothing is read before it is decided."""
    statement = select(Referral.person_id).distinct()
    if agency_id is not None:
        statement = statement.where(Referral.case_management_agency_id == agency_id)
    return sorted(db.exec(statement).all())


def first_referrals(
    db: Session, person_ids: Sequence[int], agency_id: int | None = None
) -> dict[int, Any]:
    """Each person's first referral (to this agency), the columns an export uses only."""
    first: dict[int, Any] = {}
    for start in range(0, len(person_ids), DECIDE_CHUNK):
        statement = core_select(
            col(Referral.person_id),
            col(Referral.referred_at),
            col(Referral.kind),
            col(Referral.precinct),
            col(Referral.offense_category),
            col(Referral.eligibility),
            col(Referral.intake_done_at),
        ).where(col(Referral.person_id).in_(person_ids[start : start + DECIDE_CHUNK]))
        if agency_id is not None:
            statement = statement.where(col(Referral.case_management_agency_id) == agency_id)
        for row in db.execute(statement.order_by(col(Referral.referred_at), col(Referral.id))):
            first.setdefault(row.person_id, row)
    return first


def _bases(
    db: Session, viewer: Viewer, ids: Sequence[int], protocol: ProtocolFact
) -> tuple[dict[int, dict[Category, str]], str]:
    policy = policy_in_force(db)
    now = utcnow()
    bases: dict[int, dict[Category, str]] = {}
    for start in range(0, len(ids), DECIDE_CHUNK):
        facts = gather_facts_many(db, viewer, ids[start : start + DECIDE_CHUNK], now)
        for pid, fact in facts.items():
            basis = research_basis(decide(viewer, fact, Purpose.research, policy), protocol)
            if basis is not None:
                bases[pid] = basis
    return bases, policy.version


def _sources(
    db: Session, bases: Mapping[int, Mapping[Category, str]], referrals: Mapping[int, Any]
) -> list[ResearchSource]:
    ids = sorted(bases)
    persons = {
        row.id: row
        for start in range(0, len(ids), DECIDE_CHUNK)
        for row in db.execute(
            core_select(
                col(Person.id),
                col(Person.date_of_birth),
                col(Person.race_ethnicity),
                col(Person.gender),
                col(Person.program_status),
            ).where(col(Person.id).in_(ids[start : start + DECIDE_CHUNK]))
        ).all()
    }
    treated = [pid for pid in ids if C.treatment in bases[pid]]
    treatment: dict[int, date | None] = {}
    for start in range(0, len(treated), DECIDE_CHUNK):
        for pid, started in db.execute(
            core_select(col(TreatmentRecord.person_id), func.min(TreatmentRecord.started_on))
            .where(col(TreatmentRecord.person_id).in_(treated[start : start + DECIDE_CHUNK]))
            .group_by(col(TreatmentRecord.person_id))
        ).all():
            treatment[pid] = started
    sources = []
    for pid in ids:
        allowed = bases[pid]
        person = persons[pid]
        referral = referrals[pid]
        fields: dict[str, Any] = {}
        if C.demographics in allowed:
            fields["age_at_referral"] = _age(person.date_of_birth, referral.referred_at.date())
            fields["race_ethnicity"] = tuple(person.race_ethnicity or ())
            fields["gender"] = tuple(person.gender or ())
        if C.referral in allowed:
            fields["precinct"] = referral.precinct
            fields["referral_year"] = referral.referred_at.year
            fields["referral_kind"] = str(referral.kind)
            fields["offense_category"] = referral.offense_category
            fields["eligibility"] = referral.eligibility
            fields["intake_completed"] = referral.intake_done_at is not None
        if C.engagement in allowed:
            fields["program_status"] = str(person.program_status)
        if C.treatment in allowed:
            fields["in_treatment"] = pid in treatment
            fields["treatment_started_on"] = treatment.get(pid)
        sources.append(ResearchSource(person_id=pid, **fields))
    return sources


def disclose_for_research(
    db: Session,
    viewer: Viewer,
    protocol: ProtocolFact,
    actor: Actor,
    prepare: Callable[[list[ResearchSource]], Prepared[R]],
) -> R:
    """Decides, reads, lets `prepare` build (or refuse) the export, and logs one disclosure
    entry per included client, committed with the read. If `prepare` raises, nothing is
    logged as disclosed and the exception propagates (the caller logs the refusal)."""
    with rollback_on_error(db):
        bases, version = _bases(db, viewer, referred_persons(db), protocol)
        referrals = first_referrals(db, sorted(bases))
        prepared = prepare(_sources(db, bases, referrals))
        log_disclosures(
            db,
            actor_for_log(viewer, actor),
            DisclosureTag.research_export_read,
            Purpose.research,
            version,
            ((pid, bases[pid]) for pid in prepared.person_ids),
            {"protocol_id": protocol.id, **prepared.detail},
        )
        db.commit()
    return prepared.result


def log_disclosures(
    db: Session,
    actor: Actor,
    tag: DisclosureTag,
    purpose: Purpose,
    version: str,
    included: Iterable[tuple[int, Mapping[Category, str]]],
    detail: Mapping[str, Any],
) -> None:
    """One disclosure entry per included client, naming them (the accounting finds it by
    `person_id`), with the basis of each category; the caller commits."""
    events = [
        Event(
            kind=LogKind.disclosure,
            tag=tag.value,
            outcome=DisclosureOutcome.disclosed.value,
            purpose=purpose.value,
            person_id=pid,
            categories=sorted(c.value for c in basis),
            policy_version=version,
            detail={
                **detail,
                "basis": {c.value: b for c, b in sorted(basis.items())},
                "part2": C.treatment in basis,
            },
        )
        for pid, basis in included
    ]
    append_many(db, actor, events)
