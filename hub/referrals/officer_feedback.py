"""What officers and sergeants learn of their referrals: each referral's status and the
standing charging decision in plain words, and the overrides a sergeant reviews."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import Select

from hub.accounts.sessions import Viewer
from hub.charging.models import ChargingDecision, ChargingMatter
from hub.clients.models import Person
from hub.db import ident
from hub.referrals.checks import require
from hub.referrals.eligibility import (
    ReferralError,
)
from hub.referrals.models import (
    Referral,
)
from hub.vocabulary import (
    Action,
    EligibilityResult,
    ProgramStatus,
    ReferralKind,
)


class ChargingStatus:
    awaiting = "awaiting decision"
    filed = "charges filed"
    declined = "charges declined"
    diverted = "diverted"
    more_information = "more information requested"


@dataclass(frozen=True)
class OfficerReferralStatus:
    """An officer's own referral, with status only: nothing clinical."""

    referral_id: int
    person_id: int
    kind: ReferralKind
    referred_at: datetime
    program_status: ProgramStatus
    charging: str | None
    # The officer's own override of a presumptive exclusion, and their sergeant's approval.
    overridden: bool = False
    override_approved_at: datetime | None = None


def current_decisions(db: Session, matter_ids: list[int]) -> dict[int, ChargingDecision]:
    """The standing decision of each matter: the newest that no other decision supersedes."""
    if not matter_ids:
        return {}
    decisions = list(
        db.exec(
            select(ChargingDecision)
            .where(col(ChargingDecision.matter_id).in_(matter_ids))
            .order_by(col(ChargingDecision.id))
        )
    )
    superseded = {d.supersedes_id for d in decisions if d.supersedes_id is not None}
    standing: dict[int, ChargingDecision] = {}
    for decision in decisions:
        if decision.id not in superseded:
            standing[decision.matter_id] = decision
    return standing


_CHARGING_WORDS = {
    "file": ChargingStatus.filed,
    "decline": ChargingStatus.declined,
    "divert": ChargingStatus.diverted,
    "more_information": ChargingStatus.more_information,
}


def officer_referral_count(db: Session, officer: Viewer) -> int:
    return db.exec(
        select(func.count())
        .select_from(Referral)
        .where(Referral.referring_user_id == officer.user_id)
    ).one()


def _officers_own(officer: Viewer) -> Select[Referral, str]:
    return (
        select(Referral, Person.program_status)
        .join(Person, col(Person.id) == Referral.person_id)
        .where(Referral.referring_user_id == officer.user_id)
    )


def officer_referrals(
    db: Session,
    officer: Viewer,
    *,
    offset: int = 0,
    limit: int | None = None,
    referral_id: int | None = None,
) -> list[OfficerReferralStatus]:
    """The officer's own referrals, newest first, with the person's program status (referred,
    screened, enrolled, active, not engaged, exited) and the charging outcome of an arrest.
    `offset`/`limit`: one page of them, cut by the database; `referral_id`: only that one."""
    query = _officers_own(officer)
    if referral_id is not None:
        query = query.where(Referral.id == referral_id)
    rows = db.exec(
        query.order_by(col(Referral.referred_at).desc(), col(Referral.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return _with_status(db, list(rows))


def officer_referrals_before(
    db: Session, officer: Viewer, *, before: int | None, limit: int
) -> list[OfficerReferralStatus]:
    """At most `limit` of the officer's own referrals, newest recorded first (by id), those
    below `before` (from the newest without it): keyset paging, so a referral recorded while a
    records system pages through neither shifts nor repeats a row."""
    query = _officers_own(officer)
    if before is not None:
        query = query.where(col(Referral.id) < before)
    rows = db.exec(query.order_by(col(Referral.id).desc()).limit(limit))
    return _with_status(db, list(rows))


def _with_status(db: Session, rows: list[tuple[Referral, str]]) -> list[OfficerReferralStatus]:
    matters = {
        m.referral_id: m
        for m in db.exec(
            select(ChargingMatter).where(
                col(ChargingMatter.referral_id).in_([r.id for r, _ in rows])
            )
        )
    }
    standing = current_decisions(db, [ident(m.id) for m in matters.values()])
    result = []
    for referral, status in rows:
        matter = matters.get(referral.id)
        charging = None
        if matter is not None:
            decision = standing.get(ident(matter.id))
            charging = (
                _CHARGING_WORDS[decision.outcome.value] if decision else ChargingStatus.awaiting
            )
        result.append(
            OfficerReferralStatus(
                referral_id=ident(referral.id),
                person_id=referral.person_id,
                kind=referral.kind,
                referred_at=referral.referred_at,
                program_status=ProgramStatus(status),
                charging=charging,
                overridden=referral.exclusion_override_reason is not None,
                override_approved_at=referral.override_approved_at,
            )
        )
    return result


@dataclass(frozen=True)
class OverrideItem:
    """An officer's override of a presumptive exclusion, for their sergeant's review; no
    person named (the sergeant reviews the officer's judgement, not the client)."""

    referral_id: int
    referred_at: datetime
    referring_user_id: int
    kind: ReferralKind
    precinct: str | None
    exclusions: list[str]
    reason: str
    person_id: int  # for the policy layer's decision and the log, never shown
    approved_at: datetime | None = None
    approved_by_id: int | None = None
    withdrawn: bool = False


def overrides_for_sergeant(
    db: Session,
    sergeant: Viewer,
    *,
    since: datetime | None = None,
    referral_id: int | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[OverrideItem]:
    """Referrals from the sergeant's agency that overrode a presumptive exclusion, newest
    first (`referral_id`: only that one; `offset`/`limit`: one page, cut by the database)."""
    query = select(Referral).where(*_overrides_of(sergeant))
    if since is not None:
        query = query.where(col(Referral.referred_at) >= since)
    if referral_id is not None:
        query = query.where(Referral.id == referral_id)
    return [
        OverrideItem(
            referral_id=ident(r.id),
            referred_at=r.referred_at,
            referring_user_id=r.referring_user_id,
            kind=r.kind,
            precinct=r.precinct,
            exclusions=list(r.exclusions_matched),
            reason=r.exclusion_override_reason or "",
            person_id=r.person_id,
            approved_at=r.override_approved_at,
            approved_by_id=r.override_approved_by_id,
            withdrawn=r.withdrawn_at is not None,
        )
        for r in db.exec(
            query.order_by(col(Referral.referred_at).desc(), col(Referral.id).desc())
            .offset(offset)
            .limit(limit)
        )
    ]


def _overrides_of(sergeant: Viewer) -> tuple[Any, ...]:
    require(sergeant, Action.referrals_overrides, "review overrides")
    return (
        col(Referral.referring_agency_id) == sergeant.agency_id,
        col(Referral.eligibility) == EligibilityResult.presumptively_excluded.value,
    )


def override_count(db: Session, sergeant: Viewer) -> int:
    """How many overrides overrides_for_sergeant lists in all."""
    conditions = _overrides_of(sergeant)
    return db.exec(select(func.count()).select_from(Referral).where(*conditions)).one()


def officer_referral(db: Session, officer: Viewer, referral_id: int) -> OfficerReferralStatus:
    """One of the officer's own referrals, status only; another's answers as none."""
    found = officer_referrals(db, officer, referral_id=referral_id)
    if not found:
        raise ReferralError("no such referral of yours")
    return found[0]
