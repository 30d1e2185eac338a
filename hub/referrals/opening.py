"""Opening a referral: after an arrest (with its charging matter), by social contact, from the
social-contact list, or from the community; each with its intake due date."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor
from hub.charging.models import ChargingMatter
from hub.clients.models import Person
from hub.db import ident, utcnow
from hub.notifications.services import CASE_MANAGEMENT_ROLES, agency_users, notify
from hub.permissions import holds_site_role
from hub.referrals.checks import (
    case_management_agency,
    check_time,
    prosecuting_agency,
    require,
    security_event,
)
from hub.referrals.eligibility import (
    PriorInvolvement,
    ReferralError,
    ScreeningAnswers,
    accept_screening,
    check_offenses,
    check_prior_involvement,
    most_serious,
    screen,
)
from hub.referrals.intake_clock import set_program_status
from hub.referrals.models import (
    Referral,
    SocialContactEntry,
)
from hub.referrals.referred_person import (
    ExistingPerson,
    PersonChoice,
    check_named_person,
    resolve_person,
)
from hub.referrals.rules import SiteRules, current_rules
from hub.vocabulary import (
    Action,
    NotificationKind,
    ProgramStatus,
    ReferralKind,
    SecurityEventTag,
)


@dataclass(frozen=True)
class ArrestDetails:
    """What the officer records of the arrest: the arrest report forwarded to the prosecutor."""

    offenses: tuple[str, ...]
    arrested_at: datetime
    place: str
    precinct: str
    offense_tracking_number: str


def intake_due_on(referred_at: datetime, rules: SiteRules) -> date:
    """The referral starts the clock: the site's deadline in days from its local date."""
    return referred_at.astimezone(rules.tz).date() + timedelta(days=rules.deadline_days)


def _open_referral(
    db: Session,
    *,
    referrer: Viewer,
    actor: Actor,
    rules: SiteRules,
    kind: ReferralKind,
    person: Person,
    offense_codes: list[str],
    offense_category: str,
    answers: ScreeningAnswers,
    override_reason: str | None,
    case_management_agency_id: int,
    now: datetime,
    precinct: str | None = None,
    prior_involvement: str | None = None,
    social_contact_entry_id: int | None = None,
    forwarded_to_agency_id: int | None = None,
) -> Referral:
    screening = screen(rules, offense_codes, answers, now.astimezone(rules.tz).date())
    override = accept_screening(screening, override_reason)
    referral = Referral(
        person_id=ident(person.id),
        kind=kind,
        referred_at=now,
        referring_user_id=referrer.user_id,
        referring_agency_id=referrer.agency_id,
        precinct=(precinct or "").strip() or None,
        alleged_offenses=offense_codes,
        offense_category=offense_category,
        eligibility=screening.result.value,
        exclusions_matched=list(screening.matched),
        rules_version=screening.rules_version,
        exclusion_override_reason=override,
        prior_involvement=prior_involvement,
        social_contact_entry_id=social_contact_entry_id,
        forwarded_to_agency_id=forwarded_to_agency_id,
        case_management_agency_id=case_management_agency_id,
        intake_due_on=intake_due_on(now, rules),
    )
    db.add(referral)
    db.flush()
    # A referral after an exit or a spell of non-engagement starts afresh; one made while the
    # person is enrolled changes nothing of their standing.
    if person.program_status in (ProgramStatus.exited, ProgramStatus.not_engaged):
        set_program_status(person, ProgramStatus.referred, now)
    for entry in db.exec(
        select(SocialContactEntry).where(
            SocialContactEntry.person_id == person.id, col(SocialContactEntry.closed_at).is_(None)
        )
    ):
        entry.closed_at = now
        entry.closed_by_referral_id = referral.id
        db.add(entry)
    detail: dict[str, object] = {"referral_id": referral.id, "kind": kind.value}
    security_event(db, actor, SecurityEventTag.referral_created, person.id, detail)
    if override is not None:
        # The reason itself stays on the referral: free text may name people.
        security_event(
            db,
            actor,
            SecurityEventTag.exclusion_overridden,
            person.id,
            {**detail, "exclusions": list(screening.matched)},
        )
    notify(
        db,
        agency_users(db, case_management_agency_id, CASE_MANAGEMENT_ROLES),
        NotificationKind.new_referral,
        f"/referrals/{referral.id}",
        f"new_referral:{referral.id}",
    )
    return referral


def create_arrest_referral(
    db: Session,
    officer: Viewer,
    person: PersonChoice,
    arrest: ArrestDetails,
    case_management_agency_id: int,
    answers: ScreeningAnswers,
    actor: Actor,
    *,
    override_reason: str | None = None,
    rules: SiteRules | None = None,
    now: datetime | None = None,
) -> tuple[Referral, ChargingMatter]:
    """An arrest referral: the arrest, the hand-off to a case management agency, and the arrest
    report forwarded to the office that prosecutes its most serious offense, where it opens a
    charging matter awaiting a decision. Commits."""
    from hub.charging.matters import open_charging_matter

    rules = rules or current_rules(db)
    now = now or utcnow()
    require(officer, Action.referrals_create, "make an arrest referral")
    check_named_person(db, officer, person)
    check_time(arrest.arrested_at, now, "the arrest")
    if not arrest.place.strip() or not arrest.precinct.strip():
        raise ReferralError("record where the arrest took place and the precinct")
    offenses = check_offenses(rules, list(arrest.offenses))
    lead = most_serious(rules, offenses)
    office = prosecuting_agency(db, rules, lead.level)
    case_management_agency(db, case_management_agency_id)
    subject, _created = resolve_person(db, person, rules, officer)
    referral = _open_referral(
        db,
        referrer=officer,
        actor=actor,
        rules=rules,
        kind=ReferralKind.arrest,
        person=subject,
        offense_codes=[o.code for o in offenses],
        offense_category=lead.category,
        answers=answers,
        override_reason=override_reason,
        case_management_agency_id=case_management_agency_id,
        now=now,
        precinct=arrest.precinct,
        forwarded_to_agency_id=office.id,
    )
    matter = open_charging_matter(
        db,
        actor,
        person_id=ident(subject.id),
        referral_id=referral.id,
        prosecuting_agency_id=ident(office.id),
        offense_tracking_number=arrest.offense_tracking_number,
        offenses=[o.code for o in offenses],
        arrested_at=arrest.arrested_at,
        arrest_place=arrest.place.strip(),
    )
    db.commit()
    return referral, matter


def create_social_contact_referral(
    db: Session,
    officer: Viewer,
    person: PersonChoice,
    offense_category: str,
    prior_involvement: PriorInvolvement,
    case_management_agency_id: int,
    answers: ScreeningAnswers,
    actor: Actor,
    *,
    precinct: str | None = None,
    override_reason: str | None = None,
    rules: SiteRules | None = None,
    now: datetime | None = None,
) -> Referral:
    """A social contact referral: no arrest, so only for a person with prior documented drug or
    prostitution involvement that the officer points to (checked against the site's rules and
    the hub's records). Commits."""
    rules = rules or current_rules(db)
    now = now or utcnow()
    require(officer, Action.referrals_create, "make a social contact referral")
    check_named_person(db, officer, person)
    case_management_agency(db, case_management_agency_id)
    existing_id = person.person_id if isinstance(person, ExistingPerson) else None
    involvement = check_prior_involvement(
        db, rules, existing_id, offense_category, prior_involvement
    )
    subject, _created = resolve_person(db, person, rules, officer)
    referral = _open_referral(
        db,
        referrer=officer,
        actor=actor,
        rules=rules,
        kind=ReferralKind.social_contact,
        person=subject,
        offense_codes=[],
        offense_category=offense_category,
        answers=answers,
        override_reason=override_reason,
        case_management_agency_id=case_management_agency_id,
        now=now,
        precinct=precinct,
        prior_involvement=involvement,
    )
    db.commit()
    return referral


def add_to_social_contact_list(
    db: Session,
    officer: Viewer,
    person: PersonChoice,
    offense_category: str,
    prior_involvement: PriorInvolvement,
    actor: Actor,
    *,
    precinct: str | None = None,
    rules: SiteRules | None = None,
) -> SocialContactEntry:
    """Police identify a person for a social contact referral, on the same prerequisite as the
    referral itself, so that others can make the connection. Commits."""
    rules = rules or current_rules(db)
    require(officer, Action.referrals_create, "add to the social contact list")
    check_named_person(db, officer, person)
    existing_id = person.person_id if isinstance(person, ExistingPerson) else None
    involvement = check_prior_involvement(
        db, rules, existing_id, offense_category, prior_involvement
    )
    subject, _created = resolve_person(db, person, rules, officer)
    open_entry = db.exec(
        select(SocialContactEntry.id).where(
            SocialContactEntry.person_id == subject.id, col(SocialContactEntry.closed_at).is_(None)
        )
    ).first()
    if open_entry is not None:
        raise ReferralError("the person is already on the social contact list")
    entry = SocialContactEntry(
        person_id=ident(subject.id),
        added_by_id=officer.user_id,
        agency_id=officer.agency_id,
        offense_category=offense_category,
        prior_involvement=involvement,
        precinct=(precinct or "").strip() or None,
    )
    db.add(entry)
    db.flush()
    security_event(
        db, actor, SecurityEventTag.social_contact_listed, subject.id, {"entry_id": entry.id}
    )
    db.commit()
    return entry


@dataclass(frozen=True)
class SocialContactListItem:
    entry_id: int
    person_id: int
    offense_category: str
    precinct: str | None
    added_at: datetime


def social_contact_list(db: Session) -> list[SocialContactListItem]:
    """The open entries of the social contact list, oldest first: ids and the entry's own
    fields; the page shows who each person is through the policy layer."""
    entries = db.exec(
        select(SocialContactEntry)
        .where(col(SocialContactEntry.closed_at).is_(None))
        .order_by(col(SocialContactEntry.added_at), col(SocialContactEntry.id))
    )
    return [
        SocialContactListItem(ident(e.id), e.person_id, e.offense_category, e.precinct, e.added_at)
        for e in entries
    ]


def create_community_referral(
    db: Session,
    referrer: Viewer,
    social_contact_entry_id: int,
    case_management_agency_id: int,
    answers: ScreeningAnswers,
    actor: Actor,
    *,
    override_reason: str | None = None,
    rules: SiteRules | None = None,
    now: datetime | None = None,
) -> Referral:
    """A community referral by a case manager, defender or service provider of a person whom
    police put on the social contact list; the entry's documented involvement carries over.
    Commits."""
    rules = rules or current_rules(db)
    now = now or utcnow()
    if not holds_site_role(referrer, rules.community_referrer_roles):
        raise ReferralError(f"a {referrer.role.value} may not make a community referral")
    entry = db.get(SocialContactEntry, social_contact_entry_id)
    if entry is None or entry.closed_at is not None:
        raise ReferralError("no such open entry on the social contact list")
    case_management_agency(db, case_management_agency_id)
    person = db.get(Person, entry.person_id)
    assert person is not None
    referral = _open_referral(
        db,
        referrer=referrer,
        actor=actor,
        rules=rules,
        kind=ReferralKind.community,
        person=person,
        offense_codes=[],
        offense_category=entry.offense_category,
        answers=answers,
        override_reason=override_reason,
        case_management_agency_id=case_management_agency_id,
        now=now,
        precinct=entry.precinct,
        prior_involvement=entry.prior_involvement,
        social_contact_entry_id=entry.id,
    )
    db.commit()
    return referral
