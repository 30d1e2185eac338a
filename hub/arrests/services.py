"""A participant's arrest, reported by any police agency or by a prosecutor's case system
(issue 15, item 1): for any offense, eligible for diversion or not, with its level and whether
there is a victim.

Police never learn who is on file (issue 12): the reporter submits the particulars, the hub
matches them to a participant here, and the answer is the same words and shape whether or
not anyone matched. A sure match opens a charging matter at the office the site's rules route
the level to; anything else waits for case management to reconcile. Every step is a security
event in the transaction that makes it.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, col, select

from hub.accounts.models import Agency
from hub.accounts.sessions import Viewer
from hub.arrests.models import ArrestReport
from hub.audit.log import Actor
from hub.charging.matters import open_new_arrest_matter
from hub.charging.models import ChargingMatter
from hub.clients.models import Person
from hub.db import ident, utcnow
from hub.notifications.services import notify, users_with_role
from hub.referrals.checks import prosecuting_agency, security_event
from hub.referrals.duplicates import find_possible_duplicates
from hub.referrals.eligibility import ReferralError
from hub.referrals.rules import SiteRules, current_rules
from hub.vocabulary import (
    ArrestReportStatus,
    NotificationKind,
    OffenseLevel,
    ProgramStatus,
    Purpose,
    Role,
    SecurityEventTag,
)

# What every reporter is told, match or no match (issue 12: nothing about who is on file).
RECEIVED = (
    "The arrest report was received. The case management agency reconciles it with any "
    "record it already holds."
)
# Enrolled and still in the program, engaged or not (no sanctions: LEAD), as hub.disclosure.
PARTICIPANT_STATUSES = frozenset(
    {ProgramStatus.enrolled, ProgramStatus.active, ProgramStatus.not_engaged}
)
# A sure match: the same date of birth and names at least 90% alike (score 0.5 + 0.5 * 0.9 with
# the shipped weights); anything less is for a person to decide.
SURE_NAME_SIMILARITY = 0.9
# An arrest older than this is history, not a new arrest for the queue.
OLDEST_ARREST = timedelta(days=2 * 365)
# A gross misdemeanor goes to the office of misdemeanors unless the site names one for it
# (Washington's city attorneys prosecute both).
ROUTED_AS = {OffenseLevel.gross_misdemeanor: OffenseLevel.misdemeanor}


class ArrestRefused(ValueError):
    """The report breaks a rule: every problem at once, per field. Nothing was changed."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in problems))


@dataclass(frozen=True)
class ArrestDetails:
    """An arrest as reported: who (particulars only), what and where."""

    first_name: str
    last_name: str
    date_of_birth: date | None
    offense_code: str
    offense_description: str
    offense_level: OffenseLevel
    has_victim: bool
    arrested_at: datetime
    place: str
    offense_tracking_number: str


@dataclass(frozen=True)
class ArrestReceived:
    """The reporter's answer: the same whether or not the person matched."""

    arrest_report_id: int
    received_at: datetime
    message: str = RECEIVED


def _problems(db: Session, arrest: ArrestDetails, rules: SiteRules, now: datetime) -> list:
    problems: list[tuple[str, str]] = []
    for field, value, most in (
        ("first_name", arrest.first_name, 100),
        ("last_name", arrest.last_name, 100),
        ("offense_code", arrest.offense_code, 64),
        ("offense_description", arrest.offense_description, 200),
        ("offense_tracking_number", arrest.offense_tracking_number, 40),
    ):
        if not value.strip() or len(value.strip()) > most:
            problems.append((field, f"give 1 to {most} characters"))
    if arrest.date_of_birth is not None and not (
        date(1900, 1, 1) <= arrest.date_of_birth <= now.date()
    ):
        problems.append(("date_of_birth", "give a date of birth between 1900 and today"))
    if arrest.arrested_at.tzinfo is None:
        problems.append(("arrested_at", "a time needs its time zone"))
    elif not _in_utc_range(arrest.arrested_at):
        problems.append(("arrested_at", "give a date and time from the years 1 to 9999"))
    elif arrest.arrested_at > now + timedelta(minutes=5):
        problems.append(("arrested_at", "the arrest lies in the future"))
    elif arrest.arrested_at < now - OLDEST_ARREST:
        problems.append(("arrested_at", "the arrest lies more than two years back"))
    if len(arrest.place.strip()) > 200:
        problems.append(("place", "give at most 200 characters"))
    otn = arrest.offense_tracking_number.strip()
    if otn and _otn_taken(db, otn):
        problems.append(("offense_tracking_number", "that number is already on record"))
    if routed_level(rules, arrest.offense_level) is None:
        problems.append(("offense_level", "the site routes no office for this level"))
    return problems


def _in_utc_range(moment: datetime) -> bool:
    try:
        moment.astimezone(UTC)  # stored in UTC: year 1 east of UTC is no date at all
    except OverflowError:
        return False
    return True


def _otn_taken(db: Session, otn: str) -> bool:
    return (
        db.exec(select(ArrestReport.id).where(ArrestReport.offense_tracking_number == otn)).first()
        is not None
        or db.exec(
            select(ChargingMatter.id).where(ChargingMatter.offense_tracking_number == otn)
        ).first()
        is not None
    )


def routed_level(rules: SiteRules, level: OffenseLevel) -> str | None:
    """The level whose office (rules.prosecution) receives an arrest of this level."""
    if level.value in rules.prosecution:
        return level.value
    fallback = ROUTED_AS.get(level)
    return fallback.value if fallback and fallback.value in rules.prosecution else None


def sure_participant(
    db: Session, rules: SiteRules, first: str, last: str, dob: date | None
) -> tuple[int | None, list[int]]:
    """The one participant the particulars surely name (or None), and every person on file
    they may name, for case management to reconcile."""
    candidates = find_possible_duplicates(db, first, last, dob, rules=rules)
    ids = [c.person_id for c in candidates]
    if dob is None or not ids:
        return None, ids
    weights = rules.duplicates
    sure_score = weights.dob_weight + weights.name_weight * SURE_NAME_SIMILARITY
    scores = {c.person_id: c.score for c in candidates}
    sure = [
        person_id
        for person_id, born, status in db.exec(
            select(col(Person.id), col(Person.date_of_birth), Person.program_status).where(
                col(Person.id).in_(ids)
            )
        )
        if person_id is not None
        and born == dob
        and status in PARTICIPANT_STATUSES
        and scores[person_id] >= sure_score
    ]
    return (sure[0] if len(sure) == 1 else None), ids


def _event(
    db: Session, actor: Actor, tag: SecurityEventTag, person_id: int | None, detail: dict
) -> None:
    security_event(db, actor, tag, person_id, detail, Purpose.charging_decision)


def _open_matter(
    db: Session, actor: Actor, report: ArrestReport, person_id: int, office: Agency
) -> ChargingMatter:
    # Opened when the report is received (a demo's or a test's clock included).
    matter = open_new_arrest_matter(
        db,
        actor,
        person_id=person_id,
        prosecuting_agency_id=ident(office.id),
        offense_tracking_number=report.offense_tracking_number,
        offenses=[report.offense_code],
        arrested_at=report.arrested_at,
        arrest_place=report.arrest_place,
        now=report.reported_at,
    )
    report.person_id = person_id
    report.matter_id = matter.id
    return matter


def record_arrest(
    db: Session,
    reporter: Viewer,
    arrest: ArrestDetails,
    actor: Actor,
    *,
    rules: SiteRules | None = None,
    now: datetime | None = None,
) -> ArrestReceived:
    """Records a reported arrest and matches it to a participant server side: a sure match
    opens a charging matter routed by the site's rules, anything else waits for case
    management. The answer says neither. Commits."""
    rules = rules or current_rules(db)
    now = now or utcnow()
    problems = _problems(db, arrest, rules, now)
    if problems:
        raise ArrestRefused(problems)
    level = routed_level(rules, arrest.offense_level)
    assert level is not None
    try:
        office = prosecuting_agency(db, rules, level)
    except ReferralError as error:
        raise ArrestRefused([("offense_level", str(error))]) from None
    first, last = arrest.first_name.strip(), arrest.last_name.strip()
    person_id, candidates = sure_participant(db, rules, first, last, arrest.date_of_birth)
    report = ArrestReport(
        reported_at=now,
        reported_by_id=reporter.user_id,
        reporting_agency_id=reporter.agency_id,
        first_name=first,
        last_name=last,
        date_of_birth=arrest.date_of_birth,
        offense_tracking_number=arrest.offense_tracking_number.strip(),
        offense_code=arrest.offense_code.strip(),
        offense_description=arrest.offense_description.strip(),
        offense_level=arrest.offense_level,
        has_victim=arrest.has_victim,
        arrested_at=arrest.arrested_at,
        arrest_place=arrest.place.strip() or None,
        status=ArrestReportStatus.matched if person_id else ArrestReportStatus.to_reconcile,
        candidate_ids=[] if person_id else candidates,
    )
    db.add(report)
    db.flush()
    if person_id is not None:
        _open_matter(db, actor, report, person_id, office)
    else:
        notify(
            db,
            users_with_role(db, Role.case_manager_supervisor),
            NotificationKind.arrest_to_reconcile,
            "/arrests/to-reconcile",
            f"arrest-to-reconcile:{report.id}",
        )
    db.add(report)
    _event(
        db,
        actor,
        SecurityEventTag.arrest_reported,
        person_id,
        {"arrest_report_id": report.id, "matter_id": report.matter_id},
    )
    db.commit()
    return ArrestReceived(arrest_report_id=ident(report.id), received_at=report.reported_at)


# --- reconciliation by case management --------------------------------------------------


@dataclass(frozen=True)
class ArrestToReconcile:
    """A reported arrest no participant surely matched: what case management needs to decide
    who it is (the particulars as reported, the offense, the persons on file it may be)."""

    arrest_report_id: int
    reported_at: datetime
    first_name: str
    last_name: str
    date_of_birth: date | None
    offense_description: str
    offense_level: OffenseLevel
    arrested_at: datetime
    candidate_ids: list[int]


def arrests_to_reconcile(db: Session, actor: Actor | None = None) -> list[ArrestToReconcile]:
    """The reports awaiting reconciliation, oldest first. With `actor`, the read of their
    particulars (persons as police reported them) is logged, naming the reports, and
    committed before anything is shown."""
    rows = db.exec(
        select(ArrestReport)
        .where(ArrestReport.status == ArrestReportStatus.to_reconcile)
        .order_by(col(ArrestReport.reported_at), col(ArrestReport.id))
    )
    found = [
        ArrestToReconcile(
            arrest_report_id=ident(r.id),
            reported_at=r.reported_at,
            first_name=r.first_name,
            last_name=r.last_name,
            date_of_birth=r.date_of_birth,
            offense_description=r.offense_description,
            offense_level=r.offense_level,
            arrested_at=r.arrested_at,
            candidate_ids=list(r.candidate_ids),
        )
        for r in rows
    ]
    if actor is not None and found:
        detail = {"arrest_report_ids": [r.arrest_report_id for r in found]}
        _event(db, actor, SecurityEventTag.arrest_reports_read, None, detail)
        db.commit()
    return found


def reconcile_arrest(
    db: Session,
    reconciler: Viewer,
    arrest_report_id: int,
    person_id: int | None,
    actor: Actor,
    *,
    rules: SiteRules | None = None,
    now: datetime | None = None,
) -> ArrestReport:
    """Case management says who a reported arrest names: one of its candidates who is a
    participant (a charging matter opens), or no participant (`person_id` None). An id that
    is not among the candidates is refused: a typed number must not charge anyone. Commits."""
    rules = rules or current_rules(db)
    report = db.get(ArrestReport, arrest_report_id)
    if report is None or report.status != ArrestReportStatus.to_reconcile:
        raise ArrestRefused([("arrest_report_id", "no such arrest report awaits reconciliation")])
    if person_id is not None:
        person = db.get(Person, person_id)
        if (
            person_id not in report.candidate_ids
            or person is None
            or person.program_status not in PARTICIPANT_STATUSES
        ):
            raise ArrestRefused([("person_id", "choose a participant among the candidates")])
        level = routed_level(rules, report.offense_level)
        try:
            office = prosecuting_agency(db, rules, level or report.offense_level.value)
        except ReferralError as error:
            raise ArrestRefused([("offense_level", str(error))]) from None
        _open_matter(db, actor, report, person_id, office)
    report.status = ArrestReportStatus.linked if person_id else ArrestReportStatus.not_a_participant
    report.reconciled_by_id = reconciler.user_id
    report.reconciled_at = now or utcnow()
    db.add(report)
    _event(
        db,
        actor,
        SecurityEventTag.arrest_reconciled,
        person_id,
        {"arrest_report_id": report.id, "matter_id": report.matter_id},
    )
    db.commit()
    return report


@dataclass(frozen=True)
class ArrestFacts:
    """What the prosecutor's matter page adds from the report that opened it (legal)."""

    offense_description: str
    offense_level: OffenseLevel
    has_victim: bool


def arrest_facts(db: Session, matter_id: int) -> ArrestFacts | None:
    """The reported arrest behind a matter, if a report opened it; shown only where the
    policy layer allowed the matter's legal fields."""
    report = db.exec(select(ArrestReport).where(ArrestReport.matter_id == matter_id)).first()
    if report is None:
        return None
    return ArrestFacts(report.offense_description, report.offense_level, report.has_victim)
