"""The demo program: agencies, staff, persons and about two years of referrals, from one seed.

Everything is fictional: agency names say so, e-mail domains end in .example, phone numbers are
555-01xx. The same seed gives the same accounts (passwords and TOTP secrets included) and the
same persons; person i is built from its own random stream, so a program of N persons is the
first N persons of any larger one, and a larger program costs only more of the same chunks.
"""

import base64
import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from faker import Faker
from sqlalchemy import Connection, Engine, insert
from sqlmodel import Session, SQLModel

from hub.accounts.models import Agency, User
from hub.accounts.passwords import hash_password
from hub.caserecord.models import ContactEntry, RecordChange
from hub.charging.models import ChargingDecision, ChargingMatter
from hub.clients.models import (
    CaseNote,
    ClientAssignment,
    HealthRecord,
    HousingRecord,
    Person,
    PersonAlias,
    PersonContact,
    PlanGoal,
    TreatmentRecord,
)
from hub.consents.models import Consent
from hub.crypto import key_ring
from hub.db import table_of
from hub.demo import phrases
from hub.demo.caserecord import demo_contact_rows, re_engage
from hub.demo.keeping import KeptEvent, keep_records, take_record
from hub.referrals.models import IntakeAssessment, Referral, SocialContactEntry
from hub.settings import get_settings
from hub.vocabulary import (
    AgencyKind,
    Category,
    ConsentKind,
    DecisionOutcome,
    MeetingStatus,
    NotificationKind,
    ProgramStatus,
    Purpose,
    ReferralKind,
    Role,
)
from hub.workgroup.models import MeetingInvitee, WorkGroupMeeting

DEFAULT_SEED = 2011
RULES_VERSION = "lead-default-2026.1"  # the version of policies/site/referral-rules.yaml
_OVERRIDDEN_EXCLUSIONS = ("violent-felony-10y", "no-contact-order", "dealing-for-profit")
_INTAKE_SERVICES = (
    "Housing navigation",
    "ID clinic",
    "Medication for opioid use disorder referral",
    "Food bank",
    "Benefits enrolment",
    "Mental health counselling referral",
    "Phone program",
)
DEFAULT_PERSONS = 300
HISTORY_DAYS = 730
# Persons are generated and inserted this many at a time, so memory stays flat at any size.
CHUNK = 500

T = TypeVar("T")


@dataclass(frozen=True)
class DemoAccount:
    role: Role
    agency: str
    email: str
    password: str
    totp_secret: str


@dataclass(frozen=True)
class AgencySpec:
    key: str
    name: str
    kind: AgencyKind
    domain: str
    jurisdiction: str | None = None
    # 42 CFR 2.11: a Part 2 program, whose records are Part 2 data in every field.
    part2_program: bool = False


AGENCIES: tuple[AgencySpec, ...] = (
    AgencySpec(
        "city_police",
        "Cascadia City Police Department (fictional)",
        AgencyKind.police,
        "cascadia-police.example",
    ),
    AgencySpec(
        "sheriff",
        "Salish County Sheriff's Office (fictional)",
        AgencyKind.police,
        "salish-sheriff.example",
    ),
    AgencySpec(
        "case_management",
        "Evergreen Harm Reduction Services (fictional)",
        AgencyKind.case_management,
        "evergreen-hrs.example",
        # It runs the substance-use treatment its clients are in: the demo's Part 2 program.
        part2_program=True,
    ),
    AgencySpec(
        "county_prosecutor",
        "Salish County Prosecuting Attorney's Office (fictional)",
        AgencyKind.prosecution,
        "salish-prosecutor.example",
        jurisdiction="felony",
    ),
    AgencySpec(
        "city_attorney",
        "Cascadia City Attorney's Office (fictional)",
        AgencyKind.prosecution,
        "cascadia-attorney.example",
        jurisdiction="misdemeanor",
    ),
    AgencySpec(
        "defender",
        "Salish County Public Defender (fictional)",
        AgencyKind.defense,
        "salish-defender.example",
    ),
    AgencySpec(
        "program_office",
        "Cascadia LEAD Program Office (fictional)",
        AgencyKind.program_office,
        "cascadia-lead.example",
    ),
    AgencySpec(
        "oversight",
        "Cascadia Community Oversight Board (fictional)",
        AgencyKind.oversight,
        "cascadia-oversight.example",
    ),
)
_AGENCY = {spec.key: spec for spec in AGENCIES}

# (agency key, role, how many): at least two users of every role, each in a fitting agency.
STAFF: tuple[tuple[str, Role, int], ...] = (
    ("city_police", Role.officer, 3),
    ("city_police", Role.sergeant, 1),
    ("sheriff", Role.officer, 2),
    ("sheriff", Role.sergeant, 1),
    ("case_management", Role.case_manager, 4),
    ("case_management", Role.case_manager_supervisor, 2),
    ("case_management", Role.admin, 1),
    ("county_prosecutor", Role.prosecutor, 2),
    ("city_attorney", Role.prosecutor, 2),
    ("defender", Role.defender, 3),
    ("program_office", Role.coordinator, 2),
    ("program_office", Role.privacy_officer, 1),
    ("program_office", Role.admin, 1),
    ("oversight", Role.privacy_officer, 1),
    # Last, so that adding them left every other demo account's row and id as it was.
    ("defender", Role.defender_supervisor, 2),
    ("program_office", Role.policy_group, 2),
)

# Readable passphrase words; a demo password is three of them and a number.
_WORD_LIST = (
    "amber anchor aspen badger basalt beacon birch bramble canyon cedar cinder clover comet "
    "copper coral cricket delta ember falcon fern fjord garnet glacier granite harbor hazel "
    "heron indigo juniper kelp lantern larch lichen maple meadow mesa mosaic nettle orchard "
    "osprey otter pebble pepper pine quartz raven reed ridge river saffron salmon sequoia "
    "shale sparrow spruce summit tamarack thistle tide timber tundra walnut willow"
)
_WORDS = tuple(_WORD_LIST.split())


def demo_password(seed: int, email: str) -> str:
    """The demo password of an account: derived from the seed, so the README can list it."""
    rng = random.Random(f"demo-password:{seed}:{email}")
    first, second, third = rng.sample(_WORDS, 3)
    return f"{first.capitalize()}-{second}-{third}-{rng.randint(10, 99)}"


def demo_totp_secret(seed: int, email: str) -> str:
    """The demo TOTP secret of an account (base32, 160 bits), derived from the seed."""
    digest = hashlib.sha256(f"demo-totp:{seed}:{email}".encode()).digest()
    return base64.b32encode(digest[:20]).decode()


def demo_accounts(seed: int = DEFAULT_SEED) -> list[DemoAccount]:
    """The accounts build_demo creates for this seed, without touching a database."""
    accounts = []
    for key, role, count in STAFF:
        spec = _AGENCY[key]
        for n in range(1, count + 1):
            email = f"{role.value.replace('_', '-')}{n}@{spec.domain}"
            accounts.append(
                DemoAccount(
                    role=role,
                    agency=spec.name,
                    email=email,
                    password=demo_password(seed, email),
                    totp_secret=demo_totp_secret(seed, email),
                )
            )
    return accounts


@lru_cache(maxsize=256)
def _password_hash(password: str) -> str:
    # argon2 is slow on purpose; a rebuild in the same process (tests, --accounts-json after a
    # build) reuses the hash of a demo password it already made.
    return hash_password(password)


# --- the build ------------------------------------------------------------------------------


@dataclass
class _Staff:
    agency_ids: dict[str, int]
    users: dict[tuple[str, Role], list[int]]

    def of(self, agency: str, *roles: Role) -> list[int]:
        return [uid for role in roles for uid in self.users.get((agency, role), [])]


def build_demo(
    db: Session,
    seed: int = DEFAULT_SEED,
    persons: int = DEFAULT_PERSONS,
    *,
    today: date | None = None,
    through_services: bool = True,
) -> list[DemoAccount]:
    """Seed an empty, migrated database with the demo program and return its accounts.

    The program's people, referrals and staff go in as rows, in the caller's transaction;
    then (`through_services`) each caseload client's record is kept through the real services
    (hub.demo.keeping), which commit as they go and log each change as a security event. No
    disclosure is logged: seeding discloses nothing to anyone. Without `through_services` the
    record is inserted as rows too, and the caller commits.
    """
    today = today or datetime.now(UTC).date()
    conn = db.connection()
    accounts = demo_accounts(seed)
    staff = _insert_staff(conn, seed, accounts, today)
    _insert_meetings(conn, staff, today)
    fake = Faker("en_US")
    deadline = get_settings().intake_deadline_days
    events: list[KeptEvent] = []
    ended: list[tuple[dict[str, Any], datetime]] = []
    person_ids: list[int] = []
    for start in range(0, persons, CHUNK):
        indexes = range(start, min(persons, start + CHUNK))
        plans = [_plan_person(i, seed, fake, today, deadline, staff) for i in indexes]
        re_engage([plan.person for plan in plans])
        if through_services:
            for i, plan in zip(indexes, plans, strict=True):
                taken = take_record(i, seed, plan, today, showcase=i < len(_SHOWCASE))
                plan.inserted = taken.person
                events.extend(taken.events)
                ended.extend(taken.ended)
        person_ids += _insert_persons(
            conn,
            plans,
            staff.of("case_management", Role.case_manager, Role.case_manager_supervisor),
        )
    if through_services:
        db.commit()
        engine = db.get_bind()
        assert isinstance(engine, Engine)
        keep_records(engine, events, person_ids, ended)
    return accounts


def _insert(conn: Connection, model: type[SQLModel], rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(table_of(model)), list(rows))


def _insert_returning(
    conn: Connection, model: type[SQLModel], rows: Sequence[dict[str, Any]]
) -> list[int]:
    """Insert many rows and return their new ids in the order of the rows."""
    if not rows:
        return []
    table = table_of(model)
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return [row[0] for row in conn.execute(statement, list(rows))]


def _at(day: date, rng: random.Random) -> datetime:
    """A moment during the working day (Pacific time, give or take) on this day, in UTC."""
    return datetime.combine(day, time(rng.randint(16, 23), rng.randint(0, 59)), UTC)


def _insert_staff(conn: Connection, seed: int, accounts: list[DemoAccount], today: date) -> _Staff:
    started = _at(today - timedelta(days=HISTORY_DAYS + 30), random.Random(seed))
    agency_ids = dict(
        zip(
            [spec.key for spec in AGENCIES],
            _insert_returning(
                conn,
                Agency,
                [
                    {
                        "name": spec.name,
                        "kind": spec.kind,
                        "jurisdiction": spec.jurisdiction,
                        "part2_program": spec.part2_program,
                        "created_at": started,
                    }
                    for spec in AGENCIES
                ],
            ),
            strict=True,
        )
    )
    yesterday = _at(today - timedelta(days=1), random.Random(seed))
    fake = Faker("en_US")
    fake.seed_instance(f"demo:{seed}:staff")
    ring = key_ring()
    keys = [key for key, role, count in STAFF for _ in range(count)]
    rows = [
        {
            "agency_id": agency_ids[key],
            "email": account.email,
            "display_name": fake.name(),
            "role": account.role,
            "status": "active",
            "password_hash": _password_hash(account.password),
            "password_changed_at": started,
            "totp_secret_sealed": ring.seal(account.totp_secret),
            "totp_last_counter": None,
            "mfa_enrolled_at": started,
            "created_at": started,
            # Staff who worked yesterday: an account unused for 90 days is disabled at sign-in
            # (CJIS AC-2(3)), which would lock every demo account out of a two-year history.
            "last_active_at": yesterday,
        }
        for key, account in zip(keys, accounts, strict=True)
    ]
    users: dict[tuple[str, Role], list[int]] = {}
    for key, account, user_id in zip(
        keys, accounts, _insert_returning(conn, User, rows), strict=True
    ):
        users.setdefault((key, account.role), []).append(user_id)
    return _Staff(agency_ids=agency_ids, users=users)


# Work groups meet every other Tuesday at 10:00 in the program's time zone, on a fixed
# fortnightly grid so that the calendar does not shift with the day the demo is built.
_MEETING_GRID = date(2024, 1, 2)
_PROGRAM_ZONE = ZoneInfo("America/Los_Angeles")


def _insert_meetings(conn: Connection, staff: _Staff, today: date) -> None:
    first = today - timedelta(days=HISTORY_DAYS)
    day = _MEETING_GRID + timedelta(days=14 * -(-(first - _MEETING_GRID).days // 14))
    days = []
    while True:
        days.append(day)
        if day >= today:
            break
        day += timedelta(days=14)
    coordinator = staff.of("program_office", Role.coordinator)[0]
    rows = []
    for n, day in enumerate(days):
        if day >= today:
            status = MeetingStatus.draft
        elif n == len(days) - 2:
            status = MeetingStatus.held  # minutes not yet approved
        else:
            status = MeetingStatus.minutes_approved
        starts_at = datetime.combine(day, time(10), _PROGRAM_ZONE).astimezone(UTC)
        rows.append(
            {
                "title": "LEAD operational work group",
                "starts_at": starts_at,
                "place": "Program office, conference room B (fictional)",
                "call_link": "https://meet.example/lead-work-group",
                "status": status,
                "series": "every other Tuesday",
                "created_by_id": coordinator,
                "created_at": starts_at - timedelta(days=13),
            }
        )
    meeting_ids = _insert_returning(conn, WorkGroupMeeting, rows)
    # Every agency kind sits at the table: officers and sergeants, case managers, both
    # prosecuting offices, defenders, the program office and an oversight observer.
    invitees = (
        staff.of("city_police", Role.sergeant, Role.officer)[:2]
        + staff.of("sheriff", Role.sergeant, Role.officer)[:2]
        + staff.of("case_management", Role.case_manager_supervisor, Role.case_manager)
        + staff.of("county_prosecutor", Role.prosecutor)
        + staff.of("city_attorney", Role.prosecutor)
        + staff.of("defender", Role.defender)
        + staff.of("program_office", Role.coordinator)
        + staff.of("oversight", Role.privacy_officer)
    )
    _insert(
        conn,
        MeetingInvitee,
        [{"meeting_id": m, "user_id": u} for m in meeting_ids for u in invitees],
    )


# --- one person -----------------------------------------------------------------------------

# The first persons show every state of the program; the rest follow these weights.
_SHOWCASE = (
    ProgramStatus.referred,
    ProgramStatus.screened,
    ProgramStatus.enrolled,
    ProgramStatus.active,
    ProgramStatus.not_engaged,
    ProgramStatus.exited,
)
_STATUS_WEIGHTS = {
    ProgramStatus.referred: 4,
    ProgramStatus.screened: 4,
    ProgramStatus.enrolled: 12,
    ProgramStatus.active: 40,
    ProgramStatus.not_engaged: 22,
    ProgramStatus.exited: 18,
}
_KIND_WEIGHTS = {
    ReferralKind.arrest: 55,
    ReferralKind.social_contact: 35,
    ReferralKind.community: 10,
}

# Charging decisions by program status: each option is a chain of decisions, a later one
# superseding the one before; () is a matter still awaiting a decision. The first option is
# the showcase person's.
_DECISIONS: dict[ProgramStatus, tuple[tuple[tuple[DecisionOutcome, ...], int], ...]] = {
    ProgramStatus.referred: (((), 1),),
    ProgramStatus.screened: (((), 1),),
    ProgramStatus.enrolled: (
        ((DecisionOutcome.more_information,), 4),
        ((), 4),
        ((DecisionOutcome.decline,), 2),
    ),
    ProgramStatus.active: (
        ((DecisionOutcome.more_information, DecisionOutcome.decline), 2),
        ((DecisionOutcome.decline,), 12),
        ((DecisionOutcome.divert,), 4),
        ((), 1),
    ),
    # Intake missed: the prosecutor may file. (Intake done, then out of touch: see below.)
    ProgramStatus.not_engaged: (
        ((DecisionOutcome.file,), 5),
        ((DecisionOutcome.more_information,), 2),
        ((), 3),
    ),
    ProgramStatus.exited: (
        ((DecisionOutcome.divert,), 4),
        ((DecisionOutcome.decline,), 6),
    ),
}
# A client who completed intake is not charged for losing touch afterwards (no sanctions).
_DECISIONS_AFTER_INTAKE_NOT_ENGAGED: tuple[tuple[tuple[DecisionOutcome, ...], int], ...] = (
    ((DecisionOutcome.decline,), 3),
    ((DecisionOutcome.more_information,), 1),
)
# Reason codes of the site's rules (policies/site/referral-rules.yaml), so that a decision page
# names each reason by its label.
_DECISION_TEXT = {
    DecisionOutcome.decline: ("completed-intake", "Declined: intake completed under the protocol."),
    DecisionOutcome.file: ("intake-not-completed", "Filed: the intake deadline passed."),
    DecisionOutcome.divert: ("engaged-in-services", "Diverted before filing."),
    DecisionOutcome.more_information: (
        "awaiting-work-group",
        "Asked the case manager to confirm intake.",
    ),
}

# HUD HMIS FY2024 race and ethnicity (1 American Indian, Alaska Native or Indigenous; 2 Asian;
# 3 Black, African American or African; 4 Native Hawaiian or Pacific Islander; 5 White;
# 6 Hispanic/Latina/e/o; 7 Middle Eastern or North African; 9 prefers not to answer; 99 not
# collected). The mix over-represents Black and Indigenous people relative to a county
# population, as referral data often does, so disparity monitoring has something to show.
_RACE_WEIGHTS: tuple[tuple[tuple[int, ...], int], ...] = (
    ((5,), 40),
    ((3,), 24),
    ((1,), 7),
    ((6,), 6),
    ((5, 6), 5),
    ((2,), 4),
    ((3, 5), 3),
    ((1, 5), 3),
    ((3, 6), 2),
    ((4,), 2),
    ((7,), 1),
    ((99,), 2),
    ((9,), 1),
)
# HUD HMIS FY2024 3.06.1 gender (0 woman; 1 man; 2 culturally specific identity; 3 different
# identity; 4 non-binary; 5 transgender; 6 questioning; 99 not collected).
_GENDER_WEIGHTS: tuple[tuple[tuple[int, ...], int], ...] = (
    ((1,), 58),
    ((0,), 32),
    ((0, 5), 3),
    ((4,), 2),
    ((1, 5), 1),
    ((2,), 1),
    ((6,), 1),
    ((3,), 1),
    ((99,), 1),
)
_GENDER_WEIGHTS_PROSTITUTION: tuple[tuple[tuple[int, ...], int], ...] = (
    ((0,), 68),
    ((0, 5), 12),
    ((1,), 12),
    ((4,), 6),
    ((2,), 2),
)
_NOTE_WEIGHTS = {
    Category.engagement: 30,
    Category.plan: 12,
    Category.housing: 12,
    Category.contact: 8,
    Category.health: 8,
    Category.treatment: 8,
    Category.referral: 6,
    Category.legal: 6,
    Category.identity: 3,
    Category.demographics: 2,
}


def _weighted(rng: random.Random, options: Sequence[tuple[T, int]]) -> T:
    return rng.choices([o for o, _ in options], [w for _, w in options])[0]


@dataclass
class _PersonRows:
    """One person's rows; person_id (and referral, matter, decision ids) are filled on insert."""

    person: dict[str, Any]
    referral: dict[str, Any]
    aliases: list[dict[str, Any]] = field(default_factory=list)
    contact: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    goals: list[dict[str, Any]] = field(default_factory=list)
    housing: list[dict[str, Any]] = field(default_factory=list)
    health: list[dict[str, Any]] = field(default_factory=list)
    treatments: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    consents: list[dict[str, Any]] = field(default_factory=list)
    matter: dict[str, Any] | None = None
    decisions: list[dict[str, Any]] = field(default_factory=list)
    intake: dict[str, Any] | None = None  # the full intake assessment, once done
    # The person's row as inserted, where the case record is then kept through the services.
    inserted: dict[str, Any] = field(default_factory=dict)

    def children(self) -> dict[type[SQLModel], list[dict[str, Any]]]:
        return {
            PersonAlias: self.aliases,
            PersonContact: self.contact,
            ClientAssignment: self.assignments,
            PlanGoal: self.goals,
            HousingRecord: self.housing,
            HealthRecord: self.health,
            TreatmentRecord: self.treatments,
            CaseNote: self.notes,
            Consent: self.consents,
        }


@dataclass(frozen=True)
class _Timeline:
    """When things happened to one person. Every day is before today."""

    status: ProgramStatus
    referral_day: date
    yesterday: date
    screened_day: date | None
    intake_day: date | None
    end_day: date | None  # exit, or when contact was lost

    def day_after(self, days: int) -> date:
        return min(self.referral_day + timedelta(days=days), self.yesterday)

    @property
    def status_day(self) -> date:
        return self.end_day or self.intake_day or self.screened_day or self.referral_day


def _timeline(
    rng: random.Random, status: ProgramStatus, showcase: bool, today: date, deadline: int
) -> _Timeline:
    if status in (ProgramStatus.referred, ProgramStatus.screened):
        # Intake still open; the showcase person's deadline is three days away.
        age = deadline - 3 if showcase else rng.randint(1, deadline - 1)
    elif status == ProgramStatus.enrolled:
        age = rng.randint(deadline + 1, deadline + 120)
    elif showcase:
        # Old enough that a year-long release has expired and been renewed.
        age = {ProgramStatus.active: 400, ProgramStatus.exited: 600}.get(status, 200)
    else:
        age = rng.randint(deadline + 15, HISTORY_DAYS)
    timeline = _Timeline(
        status=status,
        referral_day=today - timedelta(days=age),
        yesterday=today - timedelta(days=1),
        screened_day=None,
        intake_day=None,
        end_day=None,
    )
    day_after = timeline.day_after
    screened_day = None if status == ProgramStatus.referred else day_after(rng.randint(0, 7))
    intake_day = end_day = None
    if status in (ProgramStatus.enrolled, ProgramStatus.active, ProgramStatus.exited) or (
        status == ProgramStatus.not_engaged and not showcase and rng.random() < 0.3
    ):
        # Most intakes meet the deadline; some come late and still count.
        if showcase:
            intake_after = 5
        elif rng.random() < 0.15:
            intake_after = rng.randint(deadline + 1, deadline + 20)
        else:
            intake_after = rng.randint(2, deadline)
        intake_day = day_after(intake_after)
        if status == ProgramStatus.exited:
            end_day = day_after(intake_after + rng.randint(60, 400))
    if status == ProgramStatus.not_engaged:
        end_day = day_after(deadline + rng.randint(0, 30))
    return replace(timeline, screened_day=screened_day, intake_day=intake_day, end_day=end_day)


def _plan_person(
    i: int, seed: int, fake: Faker, today: date, deadline: int, staff: _Staff
) -> _PersonRows:
    """Everything about person i, from its own random stream."""
    rng = random.Random(f"demo:{seed}:person:{i}")
    fake.seed_instance(f"demo:{seed}:person:{i}")
    showcase = i < len(_SHOWCASE)

    # --- the referral and where the person stands ---
    status = _SHOWCASE[i] if showcase else _weighted(rng, list(_STATUS_WEIGHTS.items()))
    if showcase:
        kind = ReferralKind.arrest
    elif i == len(_SHOWCASE):
        kind = ReferralKind.social_contact
    elif i == len(_SHOWCASE) + 1:
        kind = ReferralKind.community
    else:
        kind = _weighted(rng, list(_KIND_WEIGHTS.items()))
    offense, offense_category, level = (
        phrases.OFFENSES[0 if i % 2 == 0 else 3] if showcase else rng.choice(phrases.OFFENSES)
    )
    timeline = _timeline(rng, status, showcase, today, deadline)
    referred_at = _at(timeline.referral_day, rng)
    screened_at = intake_at = None
    if timeline.screened_day is not None:
        screened_at = max(_at(timeline.screened_day, rng), referred_at + timedelta(hours=1))
    if timeline.intake_day is not None:
        intake_at = max(
            _at(timeline.intake_day, rng), (screened_at or referred_at) + timedelta(hours=1)
        )
    last_contact = {
        ProgramStatus.referred: None,
        ProgramStatus.active: max(timeline.status_day, today - timedelta(days=rng.randint(1, 21))),
    }.get(status, timeline.status_day)

    police = "city_police" if rng.random() < 0.7 else "sheriff"
    referrer_pool = staff.of(police, Role.officer)
    if rng.random() < 0.1:
        referrer_pool = staff.of(police, Role.sergeant)
    referrer = rng.choice(referrer_pool)
    prosecutor_key = "county_prosecutor" if level == "felony" else "city_attorney"

    gender = list(
        _weighted(
            rng,
            _GENDER_WEIGHTS_PROSTITUTION if offense_category == "prostitution" else _GENDER_WEIGHTS,
        )
    )
    if 0 in gender:
        first_name = fake.first_name_female()
    elif 1 in gender:
        first_name = fake.first_name_male()
    else:
        first_name = fake.first_name_nonbinary()
    last_name = fake.last_name()

    rows = _PersonRows(
        person={
            "first_name": first_name,
            "last_name": last_name,
            "date_of_birth": date(1958, 1, 1) + timedelta(days=rng.randint(0, 46 * 365)),
            "race_ethnicity": list(_weighted(rng, _RACE_WEIGHTS)),
            "additional_race_ethnicity": None,
            "gender": gender,
            "program_status": status,
            "status_changed_at": _at(timeline.status_day, rng),
            "last_contact_on": last_contact,
            "created_at": referred_at,
            "created_by_id": referrer,
        },
        referral={
            "kind": kind,
            "referred_at": referred_at,
            "referring_user_id": referrer,
            "referring_agency_id": staff.agency_ids[police],
            "precinct": rng.choice(phrases.PRECINCTS) if police == "city_police" else None,
            # Only an arrest alleges an offense; a social contact rests on prior involvement.
            "alleged_offenses": [offense] if kind == ReferralKind.arrest else [],
            "offense_category": offense_category,
            "eligibility": "eligible",
            "exclusion_override_reason": None,
            "prior_involvement": None,
            "forwarded_to_agency_id": None,
            "case_management_agency_id": staff.agency_ids["case_management"],
            "intake_due_on": timeline.referral_day + timedelta(days=deadline),
            "screening_done_at": screened_at,
            "intake_done_at": intake_at,
            "created_at": referred_at,
            "rules_version": RULES_VERSION,
            "exclusions_matched": [],
            # Bulk inserts take every row's keys from the first: each row has them all.
            "screening_done_by_id": None,
            "intake_done_by_id": None,
        },
    )
    if kind == ReferralKind.arrest:
        rows.referral["forwarded_to_agency_id"] = staff.agency_ids[prosecutor_key]
        if level == "felony" and not showcase and rng.random() < 0.2:
            rows.referral["eligibility"] = "presumptively_excluded"
            rows.referral["exclusions_matched"] = [rng.choice(_OVERRIDDEN_EXCLUSIONS)]
            rows.referral["exclusion_override_reason"] = rng.choice(phrases.EXCLUSION_OVERRIDES)
    elif kind == ReferralKind.social_contact:
        rows.referral["prior_involvement"] = rng.choice(phrases.PRIOR_INVOLVEMENT)
    else:
        rows.referral["prior_involvement"] = rng.choice(phrases.COMMUNITY_REFERRAL_NOTES)

    # --- identity and contact ---
    if rng.random() < 0.2:
        rows.aliases = [
            {"name": f"{fake.first_name()} {rng.choice((last_name, fake.last_name()))}"}
            for _ in range(rng.randint(1, 2))
        ]
    if rng.random() < 0.85:
        rows.contact = [
            {
                "phone": f"(360) 555-01{rng.randint(0, 99):02d}" if rng.random() < 0.7 else None,
                "staying_at": rng.choice(phrases.STAYING_AT),
                "updated_at": _at(timeline.status_day, rng),
                "recorded_by_id": referrer,
            }
        ]

    # --- case management and defense ---
    case_manager = rng.choice(staff.of("case_management", Role.case_manager))
    if screened_at is not None:
        # The case manager keeps the contact current from screening on.
        for contact in rows.contact:
            contact["recorded_by_id"] = case_manager
    if screened_at is not None:
        rows.referral["screening_done_by_id"] = case_manager
    if intake_at is not None:
        rows.referral["intake_done_by_id"] = case_manager
        rows.intake = {
            "person_id": None,
            "assessed_by_id": case_manager,
            "assessed_at": intake_at,
            "services": rng.sample(_INTAKE_SERVICES, rng.randint(1, 3)),
            "created_at": intake_at,
        }
    if timeline.screened_day is not None:
        ended = timeline.end_day if status == ProgramStatus.exited else None
        rows.assignments.append(
            {
                "user_id": case_manager,
                "kind": "caseload",
                "started_at": _at(timeline.screened_day, rng),
                "ended_at": ended and _at(ended, rng),
            }
        )
        waitlist = rng.choice(phrases.WAITLISTS) if rng.random() < 0.5 else None
        rows.housing = [
            {
                "living_situation": _weighted(rng, phrases.LIVING_SITUATIONS),
                "waitlist": waitlist,
                "waitlist_since": waitlist and timeline.day_after(rng.randint(5, 200)),
                "updated_at": _at(timeline.status_day, rng),
                "recorded_by_id": case_manager,
            }
        ]
        assert screened_at is not None
        rows.notes = _notes(
            i, rng, status, case_manager, screened_at, last_contact or timeline.yesterday
        )
    defender = None
    if kind == ReferralKind.arrest and (showcase or rng.random() < 0.7):
        defender = rng.choice(staff.of("defender", Role.defender))
        rows.assignments.append(
            {
                "user_id": defender,
                "kind": "defense",
                "started_at": _at(timeline.day_after(1), rng),
                "ended_at": None,
            }
        )
    if timeline.intake_day is not None:
        treatment = _care(rows, rng, timeline, case_manager, showcase, today)
        rows.consents = _consents(
            i,
            rng,
            kind,
            f"{first_name} {last_name}",
            timeline,
            today,
            staff,
            prosecutor=staff.agency_ids[
                prosecutor_key if kind == ReferralKind.arrest else "county_prosecutor"
            ],
            case_manager=case_manager,
            defender=defender,
            treatment=treatment,
        )
    if kind == ReferralKind.arrest:
        _charging(rows, i, rng, timeline, showcase, staff, prosecutor_key, offense, deadline)
    return rows


def _care(
    rows: _PersonRows,
    rng: random.Random,
    timeline: _Timeline,
    case_manager: int,
    showcase: bool,
    today: date,
) -> str | None:
    """Plan goals, health and treatment records from intake on; returns the treatment
    program, if any."""
    assert timeline.intake_day is not None
    intake_after = (timeline.intake_day - timeline.referral_day).days
    exited = timeline.status == ProgramStatus.exited
    rows.goals = [
        {
            "goal": goal,
            "services": services,
            "status": "met" if exited and rng.random() < 0.5 else rng.choice(phrases.GOAL_STATUSES),
            "created_at": _at(timeline.day_after(intake_after + n * 20), rng),
            "created_by_id": case_manager,
        }
        for n, (goal, services) in enumerate(rng.sample(phrases.GOALS, rng.randint(1, 3)))
    ]
    if rng.random() < 0.55:
        rows.health = [
            {
                "mental_health": rng.choice(phrases.MENTAL_HEALTH),
                "physical_health": rng.choice(phrases.PHYSICAL_HEALTH),
                "updated_at": _at(timeline.intake_day, rng),
                "recorded_by_id": case_manager,
            }
        ]
    if not (showcase and timeline.status == ProgramStatus.active) and rng.random() >= 0.4:
        return None
    treatment = rng.choice(phrases.TREATMENT_PROGRAMS)
    started = timeline.day_after(intake_after + rng.randint(3, 60))
    ended = started + timedelta(days=90)
    rows.treatments = [
        {
            "program": treatment,
            "started_on": started,
            "ended_on": ended if ended < today and rng.random() < 0.3 else None,
            "notes": rng.choice(phrases.TREATMENT_NOTES),
            "created_at": _at(started, rng),
        }
    ]
    return treatment


def _charging(
    rows: _PersonRows,
    i: int,
    rng: random.Random,
    timeline: _Timeline,
    showcase: bool,
    staff: _Staff,
    prosecutor_key: str,
    offense: str,
    deadline: int,
) -> None:
    """The charging matter of an arrest and the decisions on it, if any yet."""
    arrested_at = rows.referral["referred_at"]
    # Unique by construction: person i owns the numbers 100 + 3i to 102 + 3i.
    tracking_number = 100 + 3 * i + rng.randint(0, 2)
    matter = rows.matter = {
        "referral_id": None,
        "prosecuting_agency_id": staff.agency_ids[prosecutor_key],
        "offense_tracking_number": f"OTN-{timeline.referral_day.year}-{tracking_number:06d}",
        "offenses": [offense],
        "arrested_at": arrested_at,
        "court_date": None,
        "created_at": arrested_at + timedelta(hours=2),
    }
    options = _DECISIONS[timeline.status]
    if timeline.status == ProgramStatus.not_engaged and timeline.intake_day is not None:
        options = _DECISIONS_AFTER_INTAKE_NOT_ENGAGED
    chain = options[0][0] if showcase else _weighted(rng, options)
    decided = timeline.intake_day or timeline.referral_day + timedelta(days=deadline)
    decided += timedelta(days=rng.randint(1, 14))
    for outcome in chain:
        decided = min(decided, timeline.yesterday)
        reason, note = _DECISION_TEXT[outcome]
        rows.decisions.append(
            {
                "decided_by_id": rng.choice(staff.of(prosecutor_key, Role.prosecutor)),
                "decided_at": _at(decided, rng),
                "outcome": outcome,
                "reason_codes": [reason],
                "note": note,
                "supersedes_id": None,
                "tree_head_id": None,
            }
        )
        if outcome == DecisionOutcome.file:
            matter["court_date"] = decided + timedelta(days=rng.randint(21, 60))
        decided += timedelta(days=rng.randint(7, 30))


def _notes(
    i: int,
    rng: random.Random,
    status: ProgramStatus,
    author: int,
    screened_at: datetime,
    last: date,
) -> list[dict[str, Any]]:
    """Case notes by the person's case manager between screening and the last contact."""
    if i < len(_SHOWCASE) and status == ProgramStatus.active:
        categories = list(Category)  # the showcase client has a note of every category
    else:
        low, high = {
            ProgramStatus.screened: (1, 1),
            ProgramStatus.enrolled: (2, 4),
            ProgramStatus.active: (3, 8),
            ProgramStatus.not_engaged: (1, 3),
            ProgramStatus.exited: (3, 6),
        }[status]
        categories = [
            _weighted(rng, list(_NOTE_WEIGHTS.items())) for _ in range(rng.randint(low, high))
        ]
    first = screened_at.date()
    span = max(0, (last - first).days)
    days = sorted(first + timedelta(days=rng.randint(0, span)) for _ in categories)
    return [
        {
            "author_id": author,
            "category": category,
            "written_at": max(_at(day, rng), screened_at + timedelta(hours=1)),
            "body": rng.choice(phrases.CASE_NOTES[category]),
        }
        for category, day in zip(categories, days, strict=True)
    ]


def _consents(
    i: int,
    rng: random.Random,
    kind: ReferralKind,
    signed_by: str,
    timeline: _Timeline,
    today: date,
    staff: _Staff,
    *,
    prosecutor: int,
    case_manager: int,
    defender: int | None,
    treatment: str | None,
) -> list[dict[str, Any]]:
    """The releases a client signed at intake. Every one holds all elements of 42 CFR 2.31."""
    showcase = i < len(_SHOWCASE)
    status, intake_day, end_day = timeline.status, timeline.intake_day, timeline.end_day
    assert intake_day is not None
    consents: list[dict[str, Any]] = []

    def consent(kind: ConsentKind, signed_on: date, **fields: Any) -> dict[str, Any]:
        row = {
            "kind": kind,
            "discloser_agency_id": staff.agency_ids["case_management"],
            "recipient_user_id": None,
            "recipient_agency_id": None,
            "recipient_agency_kind": None,
            "categories": [],
            "purposes": [],
            "description": "",
            "right_to_revoke": phrases.RIGHT_TO_REVOKE,
            "expires_on": None,
            "expiry_event": None,
            "irrevocable_until": None,
            "signed_by": signed_by,
            "signature_on_file": True,
            "signed_on": signed_on,
            "revoked_at": None,
            "revoked_by_id": None,
            "created_at": _at(signed_on, rng),
            "created_by_id": case_manager,
        }
        row.update(fields)
        consents.append(row)
        return row

    def revoke(row: dict[str, Any], on: date) -> None:
        row["revoked_at"] = _at(min(on, today - timedelta(days=1)), rng)
        row["revoked_by_id"] = case_manager

    if showcase or rng.random() < 0.75:
        # A general release lets the prosecutor's office see the plan and housing status in the
        # work group and when it decides on charges; it runs for a year, then is renewed.
        signed_on = intake_day
        while True:
            general = consent(
                ConsentKind.general,
                signed_on,
                recipient_agency_id=prosecutor,
                categories=[Category.plan, Category.housing],
                purposes=[Purpose.work_group, Purpose.charging_decision],
                description="My goals and services, and my housing status including waiting lists.",
                expires_on=signed_on + timedelta(days=365),
            )
            renew = status in (ProgramStatus.active, ProgramStatus.enrolled)
            if general["expires_on"] >= today or not renew:
                break
            signed_on = general["expires_on"]
        if end_day and status == ProgramStatus.exited and (showcase or rng.random() < 0.25):
            # Leaving the program, the client withdrew it.
            revoke(general, min(end_day, general["expires_on"] - timedelta(days=1)))
        elif not showcase and rng.random() < 0.05:
            revoke(general, general["signed_on"] + timedelta(days=rng.randint(10, 120)))

    if treatment and defender and (showcase or rng.random() < 0.6):
        # 42 CFR 2.31: a Part 2 consent names the recipient (the client's own defender) and
        # the purpose (the defense), with an expiry event.
        part2 = consent(
            ConsentKind.part2,
            min(intake_day + timedelta(days=rng.randint(3, 30)), timeline.yesterday),
            recipient_user_id=defender,
            categories=[Category.treatment],
            purposes=[Purpose.defense],
            description=f"My substance-use treatment records at {treatment}: attendance, "
            "medication and progress summaries.",
            expiry_event="the end of my defense representation in this case",
        )
        if not showcase and rng.random() < 0.1:
            revoke(part2, part2["signed_on"] + timedelta(days=rng.randint(10, 90)))

    if kind == ReferralKind.arrest and (showcase or rng.random() < 0.9):
        # 42 CFR 2.35: the prosecutor holding charges may monitor attendance and engagement
        # only; the consent may be irrevocable until final disposition.
        consent(
            ConsentKind.criminal_justice_referral,
            intake_day,
            recipient_agency_id=prosecutor,
            categories=[Category.engagement],
            purposes=[Purpose.charging_decision, Purpose.work_group],
            description="Whether I attend and take part in the program (attendance and "
            "engagement only), so the prosecutor can monitor my progress while charges are held.",
            right_to_revoke=phrases.RIGHT_TO_REVOKE_2_35,
            expiry_event="final disposition of the charges",
            irrevocable_until="final disposition of the charges",
        )
    return consents


def _insert_persons(
    conn: Connection, plans: list[_PersonRows], case_managers: list[int] | None = None
) -> list[int]:
    person_ids = _insert_returning(
        conn, Person, [{**plan.person, **plan.inserted} for plan in plans]
    )
    children: dict[type[SQLModel], list[dict[str, Any]]] = {}
    for person_id, plan in zip(person_ids, plans, strict=True):
        plan.referral["person_id"] = person_id
        if plan.matter is not None:
            plan.matter["person_id"] = person_id
        for model, rows in plan.children().items():
            for row in rows:
                row["person_id"] = person_id
            children.setdefault(model, []).extend(rows)
    referral_ids = _insert_returning(conn, Referral, [plan.referral for plan in plans])
    arrests = [plan for plan in plans if plan.matter is not None]
    for plan, referral_id in zip(plans, referral_ids, strict=True):
        if plan.matter is not None:
            plan.matter["referral_id"] = referral_id
    matter_ids = _insert_returning(conn, ChargingMatter, [plan.matter or {} for plan in arrests])
    for plan, matter_id in zip(arrests, matter_ids, strict=True):
        for decision in plan.decisions:
            decision["matter_id"] = matter_id
    # A later decision supersedes the one before it, so decisions go in by rank.
    rank = 0
    while True:
        ranked = [plan for plan in arrests if len(plan.decisions) > rank]
        if not ranked:
            break
        for plan in ranked:
            if rank:
                plan.decisions[rank]["supersedes_id"] = plan.decisions[rank - 1]["id"]
        ids = _insert_returning(conn, ChargingDecision, [plan.decisions[rank] for plan in ranked])
        for plan, decision_id in zip(ranked, ids, strict=True):
            plan.decisions[rank]["id"] = decision_id
        rank += 1
    for model, rows in children.items():
        _insert(conn, model, rows)
    # Issue 14: the contact log and status history behind each caseload client's record, as
    # rows where it is not kept through the services (hub.demo.keeping took it out).
    contacts, changes = demo_contact_rows(
        [
            (pid, plan.person, plan.assignments)
            for pid, plan in zip(person_ids, plans, strict=True)
            if not plan.inserted
        ]
    )
    _insert(conn, ContactEntry, contacts)
    _insert(conn, RecordChange, changes)
    intakes = []
    for plan, referral_id in zip(plans, referral_ids, strict=True):
        if plan.intake is not None:
            intakes.append(
                {**plan.intake, "referral_id": referral_id, "person_id": plan.referral["person_id"]}
            )
    _insert(conn, IntakeAssessment, intakes)
    _insert_follow_up(conn, plans, referral_ids, case_managers or [])
    return person_ids


def _insert_follow_up(
    conn: Connection, plans: list[_PersonRows], referral_ids: list[int], case_managers: list[int]
) -> None:
    """What the pages of issue 5 show beyond the records: the social contact list (the entry a
    community referral came from, closed by it; an exited social-contact client listed again)
    and notifications (a new referral for the case managers, a near deadline, a decision for
    the referring officer). Texts are the fixed ones of hub.notifications: no personal data."""
    from hub.notifications.models import Notification
    from hub.notifications.services import TEXTS

    notes: list[dict[str, Any]] = []

    def notify(user_id: int, kind: NotificationKind, link: str, key: str, at: datetime) -> None:
        notes.append(
            {
                "user_id": user_id,
                "kind": kind,
                "text": TEXTS[kind],
                "link": link,
                "dedupe_key": key,
                "created_at": at,
                "read_at": None,
            }
        )

    entries = []
    for plan, referral_id in zip(plans, referral_ids, strict=True):
        referral = plan.referral
        status = plan.person["program_status"]
        listed = {
            "person_id": referral["person_id"],
            "added_by_id": referral["referring_user_id"],
            "agency_id": referral["referring_agency_id"],
            "offense_category": referral["offense_category"],
            "prior_involvement": "documented_incident:2024-000"
            + f"{referral['person_id'] % 1000:03d}",
            "precinct": referral["precinct"],
        }
        if referral["kind"] == ReferralKind.community:
            entries.append(
                {
                    **listed,
                    "added_at": referral["referred_at"] - timedelta(days=3),
                    "closed_at": referral["referred_at"],
                    "closed_by_referral_id": referral_id,
                }
            )
        elif (
            referral["kind"] == ReferralKind.social_contact
            and status == ProgramStatus.exited
            and len([e for e in entries if e["closed_at"] is None]) < 3
        ):
            added = plan.person["status_changed_at"] + timedelta(hours=1)
            entries.append(
                {**listed, "added_at": added, "closed_at": None, "closed_by_referral_id": None}
            )
        caseload = {a["user_id"] for a in plan.assignments if a["kind"] == "caseload"}
        holders = sorted(caseload) or case_managers
        if status == ProgramStatus.referred:
            for user_id in case_managers:
                notify(
                    user_id,
                    NotificationKind.new_referral,
                    f"/referrals/{referral_id}",
                    f"new_referral:{referral_id}",
                    referral["referred_at"],
                )
        if status in (ProgramStatus.referred, ProgramStatus.screened):
            for user_id in holders:
                notify(
                    user_id,
                    NotificationKind.deadline_near,
                    f"/referrals/{referral_id}",
                    f"deadline_near:referral:{referral_id}",
                    referral["referred_at"] + timedelta(days=23),
                )
        for decision in plan.decisions:
            notify(
                referral["referring_user_id"],
                NotificationKind.decision_on_referral,
                f"/referrals/{referral_id}",
                f"decision:{decision['id']}",
                decision["decided_at"],
            )
    _insert(conn, SocialContactEntry, entries)
    _insert(conn, Notification, notes)
