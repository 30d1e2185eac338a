"""Matters awaiting a filing decision: one opened with an arrest referral, or with a new arrest
of an enrolled client, at the office that prosecutes the most serious offense."""

from datetime import datetime

from sqlmodel import Session, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor
from hub.charging.checks import ChargingError
from hub.charging.models import ChargingMatter
from hub.clients.models import Person
from hub.db import ident, utcnow
from hub.notifications.services import agency_users, notify
from hub.permissions import authorize
from hub.referrals.checks import (
    check_time,
    prosecuting_agency,
    security_event,
)
from hub.referrals.eligibility import ReferralError, check_offenses, most_serious
from hub.referrals.opening import ArrestDetails
from hub.referrals.rules import SiteRules, current_rules
from hub.vocabulary import Action, NotificationKind, ProgramStatus, Purpose, Role, SecurityEventTag


def open_charging_matter(
    db: Session,
    actor: Actor,
    *,
    person_id: int,
    referral_id: int | None,
    prosecuting_agency_id: int,
    offense_tracking_number: str,
    offenses: list[str],
    arrested_at: datetime,
    arrest_place: str | None,
    now: datetime | None = None,
) -> ChargingMatter:
    """A matter awaiting a filing decision at the office the arrest report went to. Flushes in
    the caller's transaction."""
    otn = offense_tracking_number.strip()
    if not otn or len(otn) > 40:
        raise ReferralError("an offense tracking number of 1 to 40 characters is required")
    taken = db.exec(
        select(ChargingMatter.id).where(ChargingMatter.offense_tracking_number == otn)
    ).first()
    if taken is not None:
        raise ReferralError("that offense tracking number is already on record")
    matter = ChargingMatter(
        person_id=person_id,
        referral_id=referral_id,
        prosecuting_agency_id=prosecuting_agency_id,
        offense_tracking_number=otn,
        offenses=offenses,
        arrested_at=arrested_at,
        arrest_place=arrest_place,
        created_at=now or utcnow(),
    )
    db.add(matter)
    db.flush()
    security_event(
        db,
        actor,
        SecurityEventTag.charging_matter_opened,
        person_id,
        {"matter_id": matter.id, "referral_id": referral_id},
        Purpose.referral,
    )
    return matter


def record_new_arrest(
    db: Session,
    officer: Viewer,
    person_id: int,
    arrest: ArrestDetails,
    actor: Actor,
    *,
    rules: SiteRules | None = None,
    now: datetime | None = None,
) -> ChargingMatter:
    """A new arrest of an enrolled client, forwarded for a filing decision (the work group's
    prosecutors weigh such charges case by case). Commits."""
    rules = rules or current_rules(db)
    now = now or utcnow()
    authorize(
        officer,
        Action.referrals_create,
        ChargingError(f"a {officer.role.value} may not record an arrest"),
    )
    check_time(arrest.arrested_at, now, "the arrest")
    person = db.get(Person, person_id)
    if person is None or person.program_status not in (
        ProgramStatus.enrolled,
        ProgramStatus.active,
        ProgramStatus.re_engaged,
    ):
        # Same answer for "no such person" and "not a client": an officer learns nothing.
        raise ChargingError("make an arrest referral for a person who is not an enrolled client")
    offenses = check_offenses(rules, list(arrest.offenses))
    office = prosecuting_agency(db, rules, most_serious(rules, offenses).level)
    matter = open_new_arrest_matter(
        db,
        actor,
        person_id=person_id,
        prosecuting_agency_id=ident(office.id),
        offense_tracking_number=arrest.offense_tracking_number,
        offenses=[o.code for o in offenses],
        arrested_at=arrest.arrested_at,
        arrest_place=arrest.place.strip() or None,
    )
    db.commit()
    return matter


def open_new_arrest_matter(
    db: Session,
    actor: Actor,
    *,
    person_id: int,
    prosecuting_agency_id: int,
    offense_tracking_number: str,
    offenses: list[str],
    arrested_at: datetime,
    arrest_place: str | None,
    now: datetime | None = None,
) -> ChargingMatter:
    """A new arrest of a participant, however it came (the referring officer's page, any
    officer's report, a case system): its matter, and the office's prosecutors told. The
    notification names the matter only. In the caller's transaction."""
    matter = open_charging_matter(
        db,
        actor,
        person_id=person_id,
        referral_id=None,
        prosecuting_agency_id=prosecuting_agency_id,
        offense_tracking_number=offense_tracking_number,
        offenses=offenses,
        arrested_at=arrested_at,
        arrest_place=arrest_place,
        now=now,
    )
    notify(
        db,
        agency_users(db, prosecuting_agency_id, [Role.prosecutor]),
        NotificationKind.new_arrest,
        f"/charging/matters/{matter.id}",
        f"new-arrest:{matter.id}",
    )
    return matter
