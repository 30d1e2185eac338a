"""The demo's day at the prosecutor's and the defender's (issue 15), made through the real
services so that the queue, the calendar, the defense pages and the period report show work
that the hub itself recorded: two new arrests of participants reported by an officer of
another agency (offenses with a victim, not LEAD-eligible), the defender office's
appointments, court dates, an earlier matter and a warrant, deputies named on matters, and a
decision to file for harm to a victim.

Unlike the bulk seed (hub.demo.program), each step is the service a page calls, with its
security events in the log. The clock is the demo's `today`, and every choice follows from
the ids the seed made, so the same seed builds the same day.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, col, select

from hub.accounts.models import Agency, User
from hub.accounts.sessions import Viewer, viewer_for
from hub.arrests.models import ArrestReport
from hub.arrests.services import (
    PARTICIPANT_STATUSES,
    ArrestDetails,
    reconcile_arrest,
    record_arrest,
)
from hub.audit.log import Actor
from hub.charging.deciding import record_decision
from hub.charging.deputies import assign_deputy
from hub.charging.models import ChargingDecision, ChargingMatter
from hub.clients.models import ClientAssignment, Person
from hub.db import ident
from hub.defense.appointments import appoint_defender
from hub.hearings.services import HearingDetails, set_hearing
from hub.priors.services import PriorMatterIn, WarrantIn, record_entry
from hub.referrals.models import Referral
from hub.referrals.rules import current_rules
from hub.vocabulary import (
    AgencyKind,
    AssignmentKind,
    DecisionOutcome,
    HearingKind,
    OffenseLevel,
    Role,
    UserStatus,
    WarrantStatus,
)

# Offenses with a victim: outside LEAD's drug and sex-work codes, so never eligible.
NEW_ARRESTS = (
    ("assault-4", "Assault in the fourth degree", "Occidental Park"),
    ("malicious-mischief-3", "Malicious mischief in the third degree", "3rd Ave and Pine St"),
)
# Queued matters per office that get a court date and, every other one, a deputy.
HEARINGS_PER_OFFICE = 6


@dataclass(frozen=True)
class LegalDay:
    """What the day made: the new matters (the first is filed), for the tests and the docs."""

    filed_matter_id: int
    queued_matter_id: int
    decision_id: int


def _user(db: Session, agency_id: int, role: Role, index: int = 0) -> User:
    users = db.exec(
        select(User)
        .where(User.agency_id == agency_id, User.role == role, User.status == UserStatus.active)
        .order_by(col(User.id))
    ).all()
    return users[index % len(users)]


def _as(db: Session, user: User) -> tuple[Viewer, Actor]:
    viewer = viewer_for(db, user)
    actor = Actor(
        user_id=viewer.user_id,
        role=viewer.role.value,
        agency_id=viewer.agency_id,
        request_id="demo",
        address="demo",
    )
    return viewer, actor


def _participants(db: Session, count: int) -> list[tuple[Person, Referral]]:
    """Participants referred after an arrest, lowest ids first."""
    rows = db.exec(
        select(Person, Referral)
        .join(Referral, col(Referral.person_id) == Person.id)
        .where(
            col(Person.program_status).in_(sorted(PARTICIPANT_STATUSES)),
            col(Person.date_of_birth).is_not(None),
            col(Referral.forwarded_to_agency_id).is_not(None),
        )
        .order_by(col(Person.id))
        .limit(count)
    ).all()
    return list(rows)


def _report_arrest(
    db: Session, person: Person, referral: Referral, k: int, now: datetime, otn: str
) -> ChargingMatter:
    """An officer of the other police agency reports the participant's arrest; should the
    particulars not surely name them, case management reconciles it, as on its page."""
    other = db.exec(
        select(Agency.id)
        .where(Agency.kind == AgencyKind.police, Agency.id != referral.referring_agency_id)
        .order_by(col(Agency.id))
    ).first()
    assert other is not None, "the demo has two police agencies"
    officer, actor = _as(db, _user(db, other, Role.officer))
    code, description, place = NEW_ARRESTS[k]
    details = ArrestDetails(
        first_name=person.first_name,
        last_name=person.last_name,
        date_of_birth=person.date_of_birth,
        offense_code=code,
        offense_description=description,
        offense_level=OffenseLevel.misdemeanor,
        has_victim=True,
        arrested_at=now - timedelta(days=2 - k, hours=5),
        place=place,
        offense_tracking_number=otn,
    )
    record_arrest(db, officer, details, actor, now=now)
    report = db.exec(select(ArrestReport).where(ArrestReport.offense_tracking_number == otn)).one()
    if report.matter_id is None:
        case_management = db.exec(
            select(User)
            .where(User.role == Role.case_manager_supervisor, User.status == UserStatus.active)
            .order_by(col(User.id))
        ).first()
        assert case_management is not None
        reconciler, reconciler_actor = _as(db, case_management)
        report = reconcile_arrest(
            db, reconciler, ident(report.id), ident(person.id), reconciler_actor, now=now
        )
    matter = db.get(ChargingMatter, report.matter_id)
    assert matter is not None
    return matter


def _unappointed_defender(db: Session, office: int, person_id: int) -> User:
    """The office's first defender not yet appointed to the client (appointed twice is
    refused)."""
    appointed = select(ClientAssignment.user_id).where(
        ClientAssignment.person_id == person_id,
        ClientAssignment.kind == AssignmentKind.defense,
        col(ClientAssignment.ended_at).is_(None),
    )
    defender = db.exec(
        select(User)
        .where(
            User.agency_id == office,
            User.role == Role.defender,
            User.status == UserStatus.active,
            col(User.id).not_in(appointed),
        )
        .order_by(col(User.id))
    ).first()
    assert defender is not None, "the demo's defender office has three defenders"
    return defender


def _court_date(db: Session, matter: ChargingMatter, kind: HearingKind, at: datetime) -> None:
    assert matter.id is not None
    viewer, actor = _as(db, _user(db, matter.prosecuting_agency_id, Role.prosecutor))
    details = HearingDetails(kind, at, f"E-{800 + matter.id % 50}")
    # Set a week before the date: the service refuses a court date already past.
    set_hearing(db, viewer, matter.id, details, actor, now=at - timedelta(days=7))


def _table_for_offices(db: Session, now: datetime, tz: object) -> None:
    """Court dates on queued matters of each office, and a deputy on every other one."""
    decided = select(ChargingDecision.matter_id)
    offices = db.exec(
        select(Agency.id).where(Agency.kind == AgencyKind.prosecution).order_by(col(Agency.id))
    ).all()
    for office in offices:
        if office is None:
            continue
        queued = db.exec(
            select(ChargingMatter)
            .where(
                ChargingMatter.prosecuting_agency_id == office,
                col(ChargingMatter.id).not_in(decided),
            )
            .order_by(col(ChargingMatter.id))
            .limit(HEARINGS_PER_OFFICE)
        ).all()
        if not queued:
            continue
        lead, actor = _as(db, _user(db, office, Role.prosecutor))
        deputy = _user(db, office, Role.prosecutor, 1)
        for i, matter in enumerate(queued):
            day = now.date() + timedelta(days=3 + 2 * i)
            at = datetime.combine(day, time(9 + i % 3, 30), tzinfo=tz).astimezone(UTC)  # type: ignore[arg-type]
            _court_date(db, matter, HearingKind.pretrial if i % 2 else HearingKind.arraignment, at)
            if i % 2 == 0:
                assign_deputy(db, lead, ident(matter.id), ident(deputy.id), actor, now=now)


def build_legal_day(db: Session, today: date) -> LegalDay | None:
    """Records the day's legal work through the services (see the module's docstring); None
    when the program has no participant to arrest (a tiny demo). Commits, step by step."""
    rules = current_rules(db)
    # Midnight at the site (UTC-8): the day's work is dated `today` wherever it is read.
    now = datetime.combine(today, time(8, 0), tzinfo=UTC)
    chosen = _participants(db, len(NEW_ARRESTS))
    if len(chosen) < len(NEW_ARRESTS):
        return None
    matters = [
        _report_arrest(db, person, referral, k, now, f"OTN-{today.year}-9{k + 1:05d}")
        for k, (person, referral) in enumerate(chosen)
    ]
    defense_office = db.exec(
        select(Agency.id).where(Agency.kind == AgencyKind.defense).order_by(col(Agency.id))
    ).first()
    assert defense_office is not None
    supervisor, supervisor_actor = _as(db, _user(db, defense_office, Role.defender_supervisor))
    for matter in matters:
        defender = _unappointed_defender(db, defense_office, matter.person_id)
        appoint_defender(
            db,
            supervisor,
            matter.offense_tracking_number,
            defender.email,
            supervisor_actor,
            now=now,
        )
        arraignment = datetime.combine(today + timedelta(days=5), time(9, 30), tzinfo=rules.tz)
        _court_date(db, matter, HearingKind.arraignment, arraignment.astimezone(UTC))
    filed, queued = matters
    prosecutor, actor = _as(db, _user(db, filed.prosecuting_agency_id, Role.prosecutor))
    record_entry(
        db,
        prosecutor,
        filed.person_id,
        PriorMatterIn(
            case_number=f"{today.year % 100 - 3:02d}-1-00417-1",
            court="Salish County District Court (fictional)",
            offense_code="9A.56.050",
            offense_description="Theft in the third degree",
            level="gross misdemeanor",
            filed_on=today - timedelta(days=3 * 365),
            disposed_on=today - timedelta(days=3 * 365 - 120),
            disposition="dismissed",
        ),
        actor,
        today,
    )
    record_entry(
        db,
        prosecutor,
        filed.person_id,
        WarrantIn(
            issued_on=today - timedelta(days=200),
            court="Cascadia Municipal Court (fictional)",
            kind="bench warrant",
            status=WarrantStatus.active,
        ),
        actor,
        today,
    )
    _table_for_offices(db, now, rules.tz)
    decision = record_decision(
        db,
        prosecutor,
        ident(filed.id),
        DecisionOutcome.file,
        ["harm-to-victim"],
        "A new offense with an identified victim, reported by another agency's officer.",
        [],
        actor,
        rules=rules,
        now=now + timedelta(hours=1),
    )
    return LegalDay(ident(filed.id), ident(queued.id), ident(decision.id))
