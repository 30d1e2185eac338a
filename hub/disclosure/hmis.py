"""Reading client data for an HMIS CSV export to the Continuum of Care, through the policy.

    result = disclose_for_hmis(db, viewer, recipient_agency_id, actor, prepare)

The case-management agency sends the CoC's HMIS its clients who consented: a client is
included only with an active consent (42 CFR 2.31 elements, unexpired, unrevoked) naming the
CoC's agency as recipient, for the case_management purpose, and only in the categories that
consent covers and the viewer's own decision allows. Identity and referral are needed for a
client to appear at all (Client and Enrollment rows). A living situation that is Part 2 data by
its source (hub.disclosure.origin) goes only on a Part 2 consent. One disclosure entry per
client included, naming them, so their accounting lists the export; committed with the read.
"""

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor
from hub.clients.models import HousingRecord, Person
from hub.consents.models import Consent
from hub.consents.services import is_active
from hub.db import rollback_on_error, utcnow
from hub.disclosure.origin import part2_origin
from hub.disclosure.policy import decide, gather_facts_many
from hub.disclosure.record import actor_for_log
from hub.disclosure.releases import policy_in_force
from hub.disclosure.research import (
    DECIDE_CHUNK,
    Prepared,
    first_referrals,
    log_disclosures,
    referred_persons,
)
from hub.vocabulary import Category, ConsentKind, DisclosureTag, Purpose

R = TypeVar("R")
C = Category
HMIS_CATEGORIES = (C.identity, C.demographics, C.referral, C.engagement, C.housing)
REQUIRED = frozenset({C.identity, C.referral})


@dataclass(frozen=True)
class HmisSource:
    """What was read of one consenting client; None where the category was not disclosed."""

    person_id: int
    first_name: str
    last_name: str
    date_of_birth: date | None
    referred_on: date
    intake_on: date | None
    race_ethnicity: tuple[int, ...] | None = None
    additional_race_ethnicity: str | None = None
    gender: tuple[int, ...] | None = None
    program_status: str | None = None
    status_changed_on: date | None = None
    living_situation: int | None = None
    living_situation_on: date | None = None
    # The living situation is Part 2 data by its source: the 42 CFR 2.32 notice goes with it.
    part2: bool = False


@dataclass(frozen=True)
class Consented:
    """What the client's active consents naming the recipient cover, and on which basis."""

    basis: dict[Category, str]
    part2: frozenset[Category]


def consents_naming(
    db: Session, person_ids: list[int], recipient_agency_id: int, now: Any
) -> dict[int, Consented]:
    """Per client, the categories their active consents naming this agency cover for the
    case_management purpose (the first consent found is the basis)."""
    basis: dict[int, dict[Category, str]] = defaultdict(dict)
    part2: dict[int, set[Category]] = defaultdict(set)
    for start in range(0, len(person_ids), DECIDE_CHUNK):
        for consent in db.exec(
            select(Consent)
            .where(
                col(Consent.person_id).in_(person_ids[start : start + DECIDE_CHUNK]),
                Consent.recipient_agency_id == recipient_agency_id,
                col(Consent.revoked_at).is_(None),
            )
            .order_by(col(Consent.id))
        ).all():
            if not is_active(consent, now) or Purpose.case_management not in consent.purposes:
                continue
            for name in consent.categories:
                if name in Category.__members__:
                    basis[consent.person_id].setdefault(Category(name), f"consent:{consent.id}")
                    if consent.kind == ConsentKind.part2:
                        part2[consent.person_id].add(Category(name))
    return {pid: Consented(dict(b), frozenset(part2[pid])) for pid, b in basis.items()}


def _sources(
    db: Session,
    bases: Mapping[int, Mapping[Category, str]],
    referrals: Mapping[int, Any],
    housing_part2_ok: Mapping[int, bool],
) -> list[HmisSource]:
    ids = sorted(bases)
    persons = {
        row.id: row
        for start in range(0, len(ids), DECIDE_CHUNK)
        for row in db.exec(
            select(Person).where(col(Person.id).in_(ids[start : start + DECIDE_CHUNK]))
        ).all()
    }
    housed = [pid for pid in ids if C.housing in bases[pid]]
    housing: dict[int, tuple[int | None, date, bool]] = {}
    for start in range(0, len(housed), DECIDE_CHUNK):
        for pid, code, updated, labelled in db.execute(
            core_select(
                col(HousingRecord.person_id),
                col(HousingRecord.living_situation),
                col(HousingRecord.updated_at),
                part2_origin(HousingRecord),
            ).where(col(HousingRecord.person_id).in_(housed[start : start + DECIDE_CHUNK]))
        ).all():
            if not labelled or housing_part2_ok[pid]:
                housing[pid] = (code, updated.date(), bool(labelled))
    sources = []
    for pid in ids:
        allowed, person, referral = bases[pid], persons[pid], referrals[pid]
        fields: dict[str, Any] = {}
        if C.demographics in allowed:
            fields["race_ethnicity"] = tuple(person.race_ethnicity or ())
            fields["additional_race_ethnicity"] = person.additional_race_ethnicity
            fields["gender"] = tuple(person.gender or ())
        if C.engagement in allowed:
            fields["program_status"] = str(person.program_status)
            changed = person.status_changed_at
            fields["status_changed_on"] = changed.date() if changed else None
        if pid in housing:
            code, on, labelled = housing[pid]
            fields.update(living_situation=code, living_situation_on=on, part2=labelled)
        sources.append(
            HmisSource(
                person_id=pid,
                first_name=person.first_name,
                last_name=person.last_name,
                date_of_birth=person.date_of_birth,
                referred_on=referral.referred_at.date(),
                intake_on=referral.intake_done_at.date() if referral.intake_done_at else None,
                **fields,
            )
        )
    return sources


def disclose_for_hmis(
    db: Session,
    viewer: Viewer,
    recipient_agency_id: int,
    actor: Actor,
    prepare: Callable[[list[HmisSource]], Prepared[R]],
) -> R:
    """Decides the viewer's agency's clients, keeps those who consented to the recipient,
    reads what both allow, lets `prepare` build the files and logs one entry per client."""
    with rollback_on_error(db):
        policy = policy_in_force(db)
        now = utcnow()
        ids = referred_persons(db, viewer.agency_id)
        consented = consents_naming(db, ids, recipient_agency_id, now)
        bases: dict[int, dict[Category, str]] = {}
        housing_part2_ok: dict[int, bool] = {}
        candidates = sorted(consented)
        for start in range(0, len(candidates), DECIDE_CHUNK):
            facts = gather_facts_many(db, viewer, candidates[start : start + DECIDE_CHUNK], now)
            for pid, fact in facts.items():
                decision = decide(viewer, fact, Purpose.case_management, policy)
                given = consented[pid]
                basis = {
                    c: given.basis[c]
                    for c in HMIS_CATEGORIES
                    if c in given.basis and decision.allows(c)
                }
                if basis.keys() >= REQUIRED:
                    bases[pid] = basis
                    housing_part2_ok[pid] = (
                        decision.allows_part2(C.housing) and C.housing in given.part2
                    )
        referrals = first_referrals(db, sorted(bases), viewer.agency_id)
        sources = _sources(db, bases, referrals, housing_part2_ok)
        for source in sources:
            basis = bases[source.person_id]
            if source.living_situation_on is None:  # not read: not logged as disclosed
                basis.pop(C.housing, None)
            elif source.part2:
                # Part 2 by source: the entry lists treatment on the consent it went out on, so
                # the Part 2 accounting (42 CFR 2.24) lists it, as hub.disclosure.record does.
                basis[C.treatment] = basis[C.housing]
        prepared = prepare(sources)
        log_disclosures(
            db,
            actor_for_log(viewer, actor),
            DisclosureTag.hmis_export_read,
            Purpose.case_management,
            policy.version,
            ((pid, bases[pid]) for pid in prepared.person_ids),
            {"recipient_agency_id": recipient_agency_id, **prepared.detail},
        )
        db.commit()
    return prepared.result
