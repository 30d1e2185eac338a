"""Referrals (purpose: referral): by arrest, by social contact, and by the community from the
police's social contact list; the intake clock; caseload assignment; the officer's feedback and
the sergeant's view of overrides.

Every service here that changes data logs it (hub.audit.log.append, a security event in the
same transaction) and commits. None returns client data beyond ids and the referral's own
fields: pages fetch the person's fields through the policy layer (hub.disclosure).
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, NoReturn

from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import Select

from hub.accounts.models import Agency, User
from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append, append_refusal
from hub.charging.models import ChargingDecision, ChargingMatter
from hub.clients.models import ClientAssignment, Person, PersonAlias
from hub.db import utcnow
from hub.notifications.services import CASE_MANAGEMENT_ROLES, agency_users, notify
from hub.referrals.duplicates import DuplicateCandidate, find_possible_duplicates
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
from hub.referrals.models import (
    CaseloadRequest,
    IntakeAssessment,
    PersonReconciliation,
    Referral,
    SocialContactEntry,
)
from hub.referrals.rules import SiteRules, current_rules
from hub.settings import get_settings
from hub.vocabulary import (
    AgencyKind,
    AssignmentKind,
    CaseloadRequestStatus,
    DeadlineStatus,
    EligibilityResult,
    NotificationKind,
    ProgramStatus,
    Purpose,
    ReferralKind,
    Role,
    SecurityEventTag,
    UserStatus,
)

__all__ = ["DuplicateCandidate", "find_possible_duplicates"]

REFERRING_OFFICER_ROLES = frozenset({Role.officer, Role.sergeant})
# What police are told of the duplicate check, match or no match: nothing about who is on file.
RECONCILIATION = (
    "The case management agency reconciles the referral with any record it already holds."
)

# HUD HMIS FY2024 data standards: 3.04 RaceAndEthnicity and 3.06 Gender response codes.
HMIS_RACE_ETHNICITY = {1, 2, 3, 4, 5, 6, 7, 8, 9, 99}
HMIS_GENDER = {0, 1, 2, 3, 4, 5, 6, 8, 9, 99}
_NOT_COLLECTED = {8, 9, 99}


def ident(value: int | None) -> int:
    """The id of a row that has been flushed (SQLModel types ids as optional)."""
    if value is None:
        raise RuntimeError("the row has no id yet: flush it first")
    return value


class PossibleDuplicate(ReferralError):
    """Persons on file may be the one entered: choose one, or say it is none of these."""

    def __init__(self, candidates: list[DuplicateCandidate]) -> None:
        self.candidates = candidates
        super().__init__(
            "possible duplicates on file: choose the existing person or confirm none of these"
        )


# --- who is referred ----------------------------------------------------------------------


@dataclass(frozen=True)
class ExistingPerson:
    person_id: int


@dataclass(frozen=True)
class NewPerson:
    """A person not yet on file. `none_of` holds the candidate ids the referrer was shown and
    answered "none of these" to; the service checks again and refuses if any candidate found
    now is missing from it (a person may have been entered in between)."""

    first_name: str
    last_name: str
    date_of_birth: date | None
    aliases: tuple[str, ...] = ()
    race_ethnicity: tuple[int, ...] = ()
    gender: tuple[int, ...] = ()
    none_of: frozenset[int] = field(default_factory=frozenset)


PersonChoice = ExistingPerson | NewPerson


def _hmis_codes(codes: tuple[int, ...], allowed: set[int], what: str) -> list[int]:
    chosen = sorted(set(codes))
    if set(chosen) - allowed:
        raise ReferralError(f"not a HUD HMIS {what} code: {sorted(set(chosen) - allowed)}")
    if len(chosen) > 1 and set(chosen) & _NOT_COLLECTED:
        raise ReferralError(
            f"'doesn't know', 'prefers not to answer' or 'not collected' stand alone ({what})"
        )
    return chosen or [99]


class PersonRefused(ReferralError):
    """A police referrer named an existing person they did not refer. The message is the
    same whether or not the person exists; `person_id` is the attempted record number, for
    the log."""

    def __init__(self, person_id: int) -> None:
        self.person_id = person_id
        super().__init__(
            "police name an existing person only if they referred them: send the person's "
            "particulars, and the case management agency reconciles the referral"
        )


def _referred_by(db: Session, person_id: int, user_id: int) -> bool:
    return (
        db.exec(
            select(Referral.id).where(
                Referral.person_id == person_id, Referral.referring_user_id == user_id
            )
        ).first()
        is not None
    )


def check_named_person(db: Session, referrer: Viewer, choice: PersonChoice) -> None:
    """Refuses a police referrer's existing person unless they referred them: checked before
    anything else about the referral, so that no other answer tells who or what is on file."""
    if (
        isinstance(choice, ExistingPerson)
        and referrer.role in REFERRING_OFFICER_ROLES
        and not _referred_by(db, choice.person_id, referrer.user_id)
    ):
        raise PersonRefused(choice.person_id)


def resolve_person(
    db: Session, choice: PersonChoice, rules: SiteRules, referrer: Viewer
) -> tuple[Person, bool]:
    """The person referred, and whether they were created now.

    Police learn nothing of who is on file: they may name an existing person only if they
    referred them themself, and particulars that resemble persons on file make a new person
    all the same, flagged for the case management agency to reconcile (PersonReconciliation).
    Whether a match was found changes nothing in what police are answered."""
    police = referrer.role in REFERRING_OFFICER_ROLES
    check_named_person(db, referrer, choice)
    if isinstance(choice, ExistingPerson):
        person = db.get(Person, choice.person_id)
        if person is None:
            raise ReferralError("no such person")
        return person, False
    first, last = choice.first_name.strip(), choice.last_name.strip()
    if not first or not last:
        raise ReferralError("a new person needs a first and a last name")
    if choice.date_of_birth is not None and choice.date_of_birth > utcnow().date():
        raise ReferralError("a date of birth lies in the future")
    aliases = [a.strip() for a in choice.aliases if a.strip()]
    candidates = find_possible_duplicates(
        db, first, last, choice.date_of_birth, aliases, rules=rules
    )
    unseen = [c for c in candidates if c.person_id not in choice.none_of]
    if unseen and not police:
        raise PossibleDuplicate(candidates)
    person = Person(
        first_name=first,
        last_name=last,
        date_of_birth=choice.date_of_birth,
        race_ethnicity=_hmis_codes(choice.race_ethnicity, HMIS_RACE_ETHNICITY, "race/ethnicity"),
        gender=_hmis_codes(choice.gender, HMIS_GENDER, "gender"),
        created_by_id=referrer.user_id,
    )
    db.add(person)
    db.flush()
    for alias in aliases:
        db.add(PersonAlias(person_id=person.id, name=alias))  # type: ignore[arg-type]
    if police and candidates:
        db.add(
            PersonReconciliation(
                person_id=ident(person.id),
                candidate_ids=[c.person_id for c in candidates],
                flagged_by_id=referrer.user_id,
            )
        )
    return person, True


# --- opening a referral -------------------------------------------------------------------


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


def _require_role(viewer: Viewer, roles: frozenset[Role] | list[Role], what: str) -> None:
    if viewer.role not in roles:
        raise ReferralError(f"a {viewer.role.value} may not {what}")


def _case_management_agency(db: Session, agency_id: int) -> Agency:
    agency = db.get(Agency, agency_id)
    if agency is None or agency.kind != AgencyKind.case_management:
        raise ReferralError("hand the referral to a case management agency")
    return agency


def _prosecuting_agency(db: Session, rules: SiteRules, level: str) -> Agency:
    jurisdiction = rules.prosecution[level]
    offices = list(
        db.exec(
            select(Agency).where(
                Agency.kind == AgencyKind.prosecution, Agency.jurisdiction == jurisdiction
            )
        )
    )
    if len(offices) != 1:
        raise ReferralError(
            f"the site needs exactly one prosecution office with jurisdiction {jurisdiction!r} "
            f"(found {len(offices)}): set it on the agency"
        )
    return offices[0]


# Public for the other domains that route by level (hub.arrests): the one look-up of an office.
prosecuting_agency = _prosecuting_agency
case_management_agency = _case_management_agency


def _security_event(
    db: Session,
    actor: Actor,
    tag: SecurityEventTag,
    person_id: int | None,
    detail: dict[str, object],
    purpose: Purpose = Purpose.referral,
    outcome: str = "success",
) -> None:
    append(
        db,
        actor,
        Event(
            kind="security",
            tag=tag.value,
            outcome=outcome,
            purpose=purpose.value,
            person_id=person_id,
            detail=detail,
        ),
    )


# Public for the other domains that log their steps the same way (hub.arrests, hub.hearings).
security_event = _security_event


def _check_time(moment: datetime, now: datetime, what: str) -> None:
    if moment.tzinfo is None:
        raise ReferralError(f"{what}: a time needs its time zone")
    if moment > now + timedelta(minutes=5):
        raise ReferralError(f"{what} lies in the future")


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
        person_id=person.id,  # type: ignore[arg-type]
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
        _set_status(person, ProgramStatus.referred, now)
    for entry in db.exec(
        select(SocialContactEntry).where(
            SocialContactEntry.person_id == person.id, col(SocialContactEntry.closed_at).is_(None)
        )
    ):
        entry.closed_at = now
        entry.closed_by_referral_id = referral.id
        db.add(entry)
    detail: dict[str, object] = {"referral_id": referral.id, "kind": kind.value}
    _security_event(db, actor, SecurityEventTag.referral_created, person.id, detail)
    if override is not None:
        # The reason itself stays on the referral: free text may name people.
        _security_event(
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
    from hub.charging.services import open_charging_matter

    rules = rules or current_rules(db)
    now = now or utcnow()
    _require_role(officer, REFERRING_OFFICER_ROLES, "make an arrest referral")
    check_named_person(db, officer, person)
    _check_time(arrest.arrested_at, now, "the arrest")
    if not arrest.place.strip() or not arrest.precinct.strip():
        raise ReferralError("record where the arrest took place and the precinct")
    offenses = check_offenses(rules, list(arrest.offenses))
    lead = most_serious(rules, offenses)
    office = _prosecuting_agency(db, rules, lead.level)
    _case_management_agency(db, case_management_agency_id)
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
        person_id=subject.id,  # type: ignore[arg-type]
        referral_id=referral.id,
        prosecuting_agency_id=office.id,  # type: ignore[arg-type]
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
    _require_role(officer, REFERRING_OFFICER_ROLES, "make a social contact referral")
    check_named_person(db, officer, person)
    _case_management_agency(db, case_management_agency_id)
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
    _require_role(officer, REFERRING_OFFICER_ROLES, "add to the social contact list")
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
        person_id=subject.id,  # type: ignore[arg-type]
        added_by_id=officer.user_id,
        agency_id=officer.agency_id,
        offense_category=offense_category,
        prior_involvement=involvement,
        precinct=(precinct or "").strip() or None,
    )
    db.add(entry)
    db.flush()
    _security_event(
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
        SocialContactListItem(e.id, e.person_id, e.offense_category, e.precinct, e.added_at)  # type: ignore[arg-type]
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
    _require_role(referrer, rules.community_referrer_roles, "make a community referral")
    entry = db.get(SocialContactEntry, social_contact_entry_id)
    if entry is None or entry.closed_at is not None:
        raise ReferralError("no such open entry on the social contact list")
    _case_management_agency(db, case_management_agency_id)
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


# --- the intake clock ---------------------------------------------------------------------


def deadline_status(
    referral: Referral,
    today: date,
    *,
    near_days: int | None = None,
    tz: tzinfo = UTC,
) -> DeadlineStatus:
    """met: screening and full intake both done by the due date; missed: the due date passed
    first (or they were done after it); near: at most `deadline_near_days` days left;
    otherwise pending. Completion times count by their local date in `tz`."""
    return clock_status(
        referral.intake_due_on,
        referral.screening_done_at,
        referral.intake_done_at,
        today,
        near_days=near_days,
        tz=tz,
    )


def clock_status(
    due: date,
    screening_done_at: datetime | None,
    intake_done_at: datetime | None,
    today: date,
    *,
    near_days: int | None = None,
    tz: tzinfo = UTC,
) -> DeadlineStatus:
    """`deadline_status` from the referral's clock columns alone (a list's order keys)."""
    near = get_settings().deadline_near_days if near_days is None else near_days
    if screening_done_at is not None and intake_done_at is not None:
        finished = max(screening_done_at, intake_done_at).astimezone(tz).date()
        return DeadlineStatus.met if finished <= due else DeadlineStatus.missed
    if today > due:
        return DeadlineStatus.missed
    if (due - today).days <= near:
        return DeadlineStatus.near
    return DeadlineStatus.pending


def _set_status(person: Person, status: ProgramStatus, at: datetime) -> None:
    person.program_status = status
    person.status_changed_at = at


def _intake_referral(db: Session, case_manager: Viewer, referral_id: int) -> Referral:
    _require_role(case_manager, CASE_MANAGEMENT_ROLES, "record intake")
    referral = db.get(Referral, referral_id)
    # Another agency's referral answers as none: a case manager sees their own agency's.
    if referral is None or referral.case_management_agency_id != case_manager.agency_id:
        raise ReferralError("no such referral for your agency")
    return referral


def _enrol_when_complete(db: Session, referral: Referral, person: Person, at: datetime) -> None:
    if referral.screening_done_at is None or referral.intake_done_at is None:
        return
    # Both intake steps done: the person becomes a client.
    if person.program_status not in (
        ProgramStatus.enrolled,
        ProgramStatus.active,
        ProgramStatus.re_engaged,
    ):
        _set_status(person, ProgramStatus.enrolled, at)


def _done_at(referral: Referral, at: datetime | None, what: str) -> datetime:
    if referral.withdrawn_at is not None:
        raise ReferralError("the referring officer withdrew this referral as made in error")
    now = utcnow()
    moment = at or now
    _check_time(moment, now, what)
    if moment < referral.referred_at:
        raise ReferralError(f"{what} cannot come before the referral")
    return moment


def record_screening(
    db: Session, case_manager: Viewer, referral_id: int, actor: Actor, *, at: datetime | None = None
) -> Referral:
    """The case manager's initial screening (who and when). The screener takes the person onto
    their caseload unless someone already holds it. Commits."""
    referral = _intake_referral(db, case_manager, referral_id)
    if referral.screening_done_at is not None:
        raise ReferralError("the initial screening is already recorded")
    moment = _done_at(referral, at, "the screening")
    person = db.get(Person, referral.person_id)
    assert person is not None
    referral.screening_done_at = moment
    referral.screening_done_by_id = case_manager.user_id
    db.add(referral)
    if person.program_status == ProgramStatus.referred:
        _set_status(person, ProgramStatus.screened, moment)
    _enrol_when_complete(db, referral, person, moment)
    db.add(person)
    _security_event(
        db,
        actor,
        SecurityEventTag.screening_recorded,
        person.id,
        {"referral_id": referral.id},
        Purpose.case_management,
    )
    if case_manager.role == Role.case_manager and not _open_caseload(db, person.id):  # type: ignore[arg-type]
        _assign(db, person.id, case_manager.user_id, actor)  # type: ignore[arg-type]
    db.commit()
    return referral


def record_intake(
    db: Session,
    case_manager: Viewer,
    referral_id: int,
    services: list[str],
    actor: Actor,
    *,
    at: datetime | None = None,
) -> IntakeAssessment:
    """The full intake assessment (who, when, the services the client was connected to), after
    the initial screening. With both done the person is enrolled. Commits."""
    referral = _intake_referral(db, case_manager, referral_id)
    if referral.screening_done_at is None:
        raise ReferralError("record the initial screening first")
    if referral.intake_done_at is not None:
        raise ReferralError("the intake assessment is already recorded")
    moment = _done_at(referral, at, "the intake assessment")
    if moment < referral.screening_done_at:
        raise ReferralError("the intake assessment cannot come before the screening")
    cleaned = [s.strip() for s in services if s.strip()]
    if any(len(s) > 200 for s in cleaned):
        raise ReferralError("name each service in at most 200 characters")
    assessment = IntakeAssessment(
        referral_id=referral.id,  # type: ignore[arg-type]
        person_id=referral.person_id,
        assessed_by_id=case_manager.user_id,
        assessed_at=moment,
        services=cleaned,
    )
    referral.intake_done_at = moment
    referral.intake_done_by_id = case_manager.user_id
    db.add_all([assessment, referral])
    person = db.get(Person, referral.person_id)
    assert person is not None
    _enrol_when_complete(db, referral, person, moment)
    db.add(person)
    _security_event(
        db,
        actor,
        SecurityEventTag.intake_recorded,
        person.id,
        {"referral_id": referral.id},
        Purpose.case_management,
    )
    db.commit()
    return assessment


# --- caseloads ----------------------------------------------------------------------------


def _open_caseload(db: Session, person_id: int) -> list[ClientAssignment]:
    return list(
        db.exec(
            select(ClientAssignment).where(
                ClientAssignment.person_id == person_id,
                ClientAssignment.kind == AssignmentKind.caseload,
                col(ClientAssignment.ended_at).is_(None),
            )
        )
    )


def _assign(
    db: Session, person_id: int, user_id: int, actor: Actor, **detail: object
) -> ClientAssignment:
    now = utcnow()
    previous = []
    for current in _open_caseload(db, person_id):
        current.ended_at = now
        db.add(current)
        previous.append(current.user_id)
    assignment = ClientAssignment(
        person_id=person_id, user_id=user_id, kind=AssignmentKind.caseload.value, started_at=now
    )
    db.add(assignment)
    db.flush()
    _security_event(
        db,
        actor,
        SecurityEventTag.caseload_assigned,
        person_id,
        {
            "assignment_id": assignment.id,
            "user_id": user_id,
            "previous_user_ids": previous,
            **detail,
        },
        Purpose.case_management,
    )
    # The case manager the client leaves is told; the note names no one (the link goes
    # through the policy layer).
    notify(
        db,
        previous,
        NotificationKind.caseload_changed,
        f"/clients/{person_id}",
        f"caseload_changed:{assignment.id}",
    )
    return assignment


def _refuse_caseload(db: Session, actor: Actor, action: str, message: str, **ids: int) -> NoReturn:
    """An insider path (taking clients without a second person): only the refusal is kept."""
    db.rollback()
    append_refusal(db, actor, {"action": action, **ids})
    raise ReferralError(message)


def _active_case_manager(db: Session, user_id: int, agency_id: int) -> None:
    target = db.get(User, user_id)
    if (
        target is None
        or target.agency_id != agency_id
        or target.role != Role.case_manager
        or target.status != UserStatus.active
    ):
        raise ReferralError("assign to an active case manager of your agency")


def assign_to_caseload(
    db: Session, assigned_by: Viewer, person_id: int, case_manager_id: int, actor: Actor
) -> ClientAssignment:
    """A supervisor puts a client on a case manager of their agency's caseload (ending any
    other caseload assignment; the case manager it leaves is told). A case manager cannot: they
    request a client (request_caseload) and a supervisor decides. Commits."""
    _require_role(assigned_by, CASE_MANAGEMENT_ROLES, "assign caseloads")
    if assigned_by.role == Role.case_manager:
        _refuse_caseload(
            db,
            actor,
            "caseload:assign",
            "a case manager may not assign caseloads: request a client for your own caseload "
            "and a supervisor decides",
            person_id=person_id,
        )
    _active_case_manager(db, case_manager_id, assigned_by.agency_id)
    on_referral = db.exec(
        select(Referral.id).where(
            Referral.person_id == person_id,
            Referral.case_management_agency_id == assigned_by.agency_id,
        )
    ).first()
    if on_referral is None:
        raise ReferralError("no referral of this person to your agency")
    if case_manager_id in {a.user_id for a in _open_caseload(db, person_id)}:
        raise ReferralError("the client is already on this caseload")
    assignment = _assign(db, person_id, case_manager_id, actor)
    db.commit()
    return assignment


def request_caseload(
    db: Session, case_manager: Viewer, referral_id: int, actor: Actor
) -> CaseloadRequest:
    """A case manager asks to take the client of a referral to their agency onto their own
    caseload. Nothing changes (and nothing more is disclosed) until a supervisor approves it;
    the agency's supervisors are told. Commits."""
    _require_role(case_manager, [Role.case_manager], "request a client")
    referral = _intake_referral(db, case_manager, referral_id)
    holders = [a.user_id for a in _open_caseload(db, referral.person_id)]
    if case_manager.user_id in holders:
        raise ReferralError("the client is already on your caseload")
    pending = db.exec(
        select(CaseloadRequest.id).where(
            CaseloadRequest.person_id == referral.person_id,
            CaseloadRequest.requested_by_id == case_manager.user_id,
            CaseloadRequest.status == CaseloadRequestStatus.pending,
        )
    ).first()
    if pending is not None:
        raise ReferralError("you have already requested this client; a supervisor decides")
    request = CaseloadRequest(
        person_id=referral.person_id,
        referral_id=ident(referral.id),
        agency_id=case_manager.agency_id,
        requested_by_id=case_manager.user_id,
        previous_case_manager_id=holders[0] if holders else None,
    )
    db.add(request)
    db.flush()
    _security_event(
        db,
        actor,
        SecurityEventTag.caseload_requested,
        referral.person_id,
        {"caseload_request_id": request.id, "referral_id": referral.id, "held_by": holders},
        Purpose.case_management,
    )
    notify(
        db,
        agency_users(db, case_manager.agency_id, [Role.case_manager_supervisor]),
        NotificationKind.caseload_requested,
        "/caseload-requests",
        f"caseload_requested:{request.id}",
    )
    db.commit()
    return request


def decide_caseload_request(
    db: Session, supervisor: Viewer, request_id: int, approve: bool, actor: Actor
) -> CaseloadRequest:
    """A supervisor of the requester's agency approves a caseload request (the client moves;
    the case manager it leaves is told) or refuses it. Commits."""
    _require_role(supervisor, [Role.case_manager_supervisor], "decide caseload requests")
    request = db.get(CaseloadRequest, request_id)
    if request is None or request.agency_id != supervisor.agency_id:
        _refuse_caseload(
            db,
            actor,
            "caseload:decide",
            "no such caseload request for your agency",
            caseload_request_id=request_id,
        )
    if request.status != CaseloadRequestStatus.pending:
        raise ReferralError("this caseload request is already decided")
    if approve:
        _active_case_manager(db, request.requested_by_id, supervisor.agency_id)
    request.status = CaseloadRequestStatus.approved if approve else CaseloadRequestStatus.refused
    request.decided_by_id = supervisor.user_id
    request.decided_at = utcnow()
    db.add(request)
    if approve:
        _assign(
            db, request.person_id, request.requested_by_id, actor, caseload_request_id=request.id
        )
    _security_event(
        db,
        actor,
        SecurityEventTag.caseload_request_approved
        if approve
        else SecurityEventTag.caseload_request_refused,
        request.person_id,
        {"caseload_request_id": request.id, "requested_by_id": request.requested_by_id},
        Purpose.case_management,
    )
    db.commit()
    return request


def pending_caseload_requests(db: Session, supervisor: Viewer) -> list[CaseloadRequest]:
    """The supervisor's agency's caseload requests awaiting a decision, oldest first."""
    _require_role(supervisor, [Role.case_manager_supervisor], "decide caseload requests")
    return list(
        db.exec(
            select(CaseloadRequest)
            .where(
                CaseloadRequest.agency_id == supervisor.agency_id,
                CaseloadRequest.status == CaseloadRequestStatus.pending,
            )
            .order_by(col(CaseloadRequest.id))
        )
    )


# --- what officers and sergeants see -----------------------------------------------------


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
    standing = current_decisions(db, [m.id for m in matters.values()])  # type: ignore[misc]
    result = []
    for referral, status in rows:
        matter = matters.get(referral.id)
        charging = None
        if matter is not None:
            decision = standing.get(matter.id)  # type: ignore[arg-type]
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
    _require_role(sergeant, frozenset({Role.sergeant}), "review overrides")
    return (
        col(Referral.referring_agency_id) == sergeant.agency_id,
        col(Referral.eligibility) == EligibilityResult.presumptively_excluded.value,
    )


def override_count(db: Session, sergeant: Viewer) -> int:
    """How many overrides overrides_for_sergeant lists in all."""
    conditions = _overrides_of(sergeant)
    return db.exec(select(func.count()).select_from(Referral).where(*conditions)).one()


# --- the case manager's intake queue ------------------------------------------------------


@dataclass(frozen=True)
class IntakeItem:
    """A referral to the case manager's agency, with its intake clock: ids and the referral's
    own fields (the page shows who the person is through the policy layer)."""

    referral_id: int
    person_id: int
    kind: ReferralKind
    referred_at: datetime
    intake_due_on: date
    screening_done_at: datetime | None
    intake_done_at: datetime | None
    deadline_status: DeadlineStatus


_INTAKE_ORDER = {
    DeadlineStatus.missed: 0,
    DeadlineStatus.near: 1,
    DeadlineStatus.pending: 2,
    DeadlineStatus.met: 3,
}


def _intake_columns() -> Any:
    # The columns of the list only, not Referral objects: an agency's queue runs to thousands.
    return select(  # type: ignore[call-overload]  # sqlmodel types select() up to 4 columns
        Referral.id,
        Referral.person_id,
        Referral.kind,
        Referral.referred_at,
        Referral.intake_due_on,
        Referral.screening_done_at,
        Referral.intake_done_at,
    )


# An open referral whose deadline passed more than this long ago is an old miss: it has its
# own tab, so that the queue opens on the work that can still be done on time (issue 17).
OLD_MISS_DAYS = 14


def _open_intake(agency_id: int, today: date, tab: str) -> Any:
    """Screening or intake still to do, not withdrawn; on the "current" tab due within the
    last OLD_MISS_DAYS days or later, on the "older" tab due before that."""
    cut = today - timedelta(days=OLD_MISS_DAYS)
    due = col(Referral.intake_due_on)
    # Intake is recorded only after the screening (record_intake), so an open referral is one
    # without intake, read from ix_referral_agency_intake in due-date order.
    return (
        col(Referral.case_management_agency_id) == agency_id,
        col(Referral.intake_done_at).is_(None),
        col(Referral.withdrawn_at).is_(None),
        due >= cut if tab == CURRENT_TAB else due < cut,
    )


def _recently_done_intake(agency_id: int, today: date, recent_days: int) -> Any:
    """Both done, intake within the last `recent_days` days: the team sees what it finished."""
    since = datetime.combine(today - timedelta(days=recent_days), datetime.min.time(), UTC)
    return (
        col(Referral.case_management_agency_id) == agency_id,
        col(Referral.screening_done_at).is_not(None),
        col(Referral.intake_done_at) >= since,
    )


CURRENT_TAB = "current"
OLDER_TAB = "older"
INTAKE_TABS = (CURRENT_TAB, OLDER_TAB)


def _tab_conditions(agency: int, today: date, tab: str, recent_days: int) -> list[Any]:
    if tab not in INTAKE_TABS:
        raise ReferralError(f"no such tab of the intake queue: {tab!r}")
    found = [_open_intake(agency, today, tab)]
    if tab == CURRENT_TAB:
        found.append(_recently_done_intake(agency, today, recent_days))
    return found


def intake_queue_count(
    db: Session,
    case_manager: Viewer,
    today: date,
    *,
    recent_days: int = 14,
    tab: str = CURRENT_TAB,
) -> int:
    """How many referrals intake_queue lists in all on this tab."""
    _require_role(case_manager, CASE_MANAGEMENT_ROLES, "see the intake queue")
    return sum(
        db.exec(select(func.count()).select_from(Referral).where(*conditions)).one()
        for conditions in _tab_conditions(case_manager.agency_id, today, tab, recent_days)
    )


def intake_queue(
    db: Session,
    case_manager: Viewer,
    today: date,
    *,
    offset: int = 0,
    limit: int | None = None,
    recent_days: int = 14,
    rules: SiteRules | None = None,
    tab: str = CURRENT_TAB,
) -> list[IntakeItem]:
    """The agency's referrals whose intake is open (missed first, then near, then pending), and
    those completed in the last `recent_days` days (a late one among the missed, the others
    last); `limit` of them from `offset`, or all. The "current" tab leaves out the open ones
    missed more than OLD_MISS_DAYS ago; the "older" tab lists only those, oldest first.

    The order is (status, due date, id). An open referral's status follows from its due date
    alone (missed before today, then near, then pending), so open referrals in due-date order
    are already in list order, and a page needs at most offset + limit of them: the database
    sorts and cuts. Completed ones (a fortnight's worth) are read whole, because a late one
    sorts among the missed by its finishing date in the site's zone."""
    _require_role(case_manager, CASE_MANAGEMENT_ROLES, "see the intake queue")
    rules = rules or current_rules(db)
    conditions = _tab_conditions(case_manager.agency_id, today, tab, recent_days)
    open_rows = _intake_columns().where(*conditions[0])
    open_rows = open_rows.order_by(col(Referral.intake_due_on), col(Referral.id))
    if limit is not None:
        open_rows = open_rows.limit(offset + limit)
    queries = [open_rows] + [_intake_columns().where(*c) for c in conditions[1:]]
    items = [
        IntakeItem(
            referral_id=referral_id,
            person_id=person_id,
            kind=ReferralKind(kind),
            referred_at=referred_at,
            intake_due_on=due,
            screening_done_at=screened,
            intake_done_at=done,
            deadline_status=clock_status(due, screened, done, today, tz=rules.tz),
        )
        for query in queries
        for referral_id, person_id, kind, referred_at, due, screened, done in db.exec(query).all()
    ]
    items.sort(key=lambda i: (_INTAKE_ORDER[i.deadline_status], i.intake_due_on, i.referral_id))
    return items[offset:] if limit is None else items[offset : offset + limit]


def reconciliation_candidates(db: Session, case_manager: Viewer, person_id: int) -> list[int]:
    """The persons on file a police referral's person may be, while no one has reconciled
    them: ids only, for the case management agency (the page names them through the policy
    layer). Police never see this."""
    _require_role(case_manager, CASE_MANAGEMENT_ROLES, "reconcile referrals")
    flag = db.exec(
        select(PersonReconciliation).where(
            PersonReconciliation.person_id == person_id,
            col(PersonReconciliation.resolved_at).is_(None),
        )
    ).first()
    return list(flag.candidate_ids) if flag else []


def intake_referral(db: Session, case_manager: Viewer, referral_id: int) -> Referral:
    """A referral to the case manager's own agency; another agency's answers as none."""
    return _intake_referral(db, case_manager, referral_id)


def agency_case_managers(db: Session, agency_id: int) -> list[tuple[int, str]]:
    """(user id, display name) of the agency's active case managers, for caseload choices."""
    rows = db.exec(
        select(User.id, User.display_name)
        .where(
            User.agency_id == agency_id,
            User.role == Role.case_manager,
            User.status == UserStatus.active,
        )
        .order_by(col(User.display_name))
    )
    return [(ident(uid), name) for uid, name in rows]


def officer_referral(db: Session, officer: Viewer, referral_id: int) -> OfficerReferralStatus:
    """One of the officer's own referrals, status only; another's answers as none."""
    found = officer_referrals(db, officer, referral_id=referral_id)
    if not found:
        raise ReferralError("no such referral of yours")
    return found[0]


def case_management_agencies(db: Session) -> list[tuple[int, str]]:
    """(id, name) of the agencies a referral can be handed to."""
    rows = db.exec(
        select(Agency.id, Agency.name)
        .where(Agency.kind == AgencyKind.case_management)
        .order_by(col(Agency.name))
    )
    return [(ident(aid), name) for aid, name in rows]
