"""Defender appointments (issue 15, item 4): the defender office appoints one of its
defenders to a client, by the offense tracking number of the client's matter (as a court's
appointment order names the case), and ends the appointment; or imports the court's
appointment records as CSV: every row checked, then the valid rows imported in one
transaction or nothing at all, as the appointer chooses.

An appointment is a `ClientAssignment` of kind defense: the relationship the disclosure policy
reads (defense_client). It grants the defender, never the appointer, so no one widens their own
access; each appointment, ending and import is a security event. The appointer sees ids and
offense tracking numbers only, no client data.

The CSV columns, in this order, with a header line:

| column | what |
| --- | --- |
| offense_tracking_number | the matter's number, as the prosecutor's office recorded it |
| defender_email | the appointed defender's hub account, in the importing office |
| appointed_on | YYYY-MM-DD: not in the future, not more than two years back |
"""

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from hub.accounts.models import User
from hub.accounts.sessions import Viewer
from hub.audit.log import Actor
from hub.charging.models import ChargingMatter
from hub.clients.models import ClientAssignment
from hub.db import ident, utcnow
from hub.permissions import allowed
from hub.referrals.checks import security_event
from hub.vocabulary import (
    Action,
    AgencyKind,
    AssignmentKind,
    ImportMode,
    Purpose,
    SecurityEventTag,
    UserStatus,
)

COLUMNS = ("offense_tracking_number", "defender_email", "appointed_on")
OLDEST_APPOINTMENT = timedelta(days=2 * 365)
MAX_ROWS = 5000


class AppointmentRefused(ValueError):
    """Nothing was changed; `problems` says why, per field or per CSV line."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{where}: {problem}" for where, problem in problems))


@dataclass(frozen=True)
class AppointmentLine:
    """An open appointment as the office's page lists it: ids and numbers, no client data."""

    assignment_id: int
    person_id: int
    defender_name: str
    started_at: datetime


def _require_defense_office(appointer: Viewer) -> None:
    if appointer.agency_kind != AgencyKind.defense:
        raise AppointmentRefused([("agency", "only a defender office appoints its defenders")])


def _defender(db: Session, appointer: Viewer, email: str) -> User | None:
    user = db.exec(select(User).where(User.email == email.strip().lower())).first()
    if (
        user is None
        or user.agency_id != appointer.agency_id
        or not allowed(user.role, Action.defense_decisions)
        or user.status != UserStatus.active
    ):
        return None
    return user


def _matter(db: Session, otn: str) -> ChargingMatter | None:
    return db.exec(
        select(ChargingMatter).where(ChargingMatter.offense_tracking_number == otn.strip())
    ).first()


def _open(db: Session, person_id: int, user_id: int) -> ClientAssignment | None:
    return db.exec(
        select(ClientAssignment).where(
            ClientAssignment.person_id == person_id,
            ClientAssignment.user_id == user_id,
            ClientAssignment.kind == AssignmentKind.defense,
            col(ClientAssignment.ended_at).is_(None),
        )
    ).first()


def _appoint(
    db: Session, actor: Actor, person_id: int, defender: User, at: datetime, source: str
) -> ClientAssignment:
    assignment = ClientAssignment(
        person_id=person_id,
        user_id=ident(defender.id),
        kind=AssignmentKind.defense,
        started_at=at,
    )
    db.add(assignment)
    db.flush()
    security_event(
        db,
        actor,
        SecurityEventTag.defender_appointed,
        person_id,
        {"assignment_id": assignment.id, "defender_id": defender.id, "source": source},
        Purpose.defense,
    )
    return assignment


def appoint_defender(
    db: Session,
    appointer: Viewer,
    otn: str,
    defender_email: str,
    actor: Actor,
    *,
    now: datetime | None = None,
) -> ClientAssignment:
    """Appoints a defender of the appointer's office to the client of the matter with this
    offense tracking number. Commits."""
    _require_defense_office(appointer)
    problems = []
    matter = _matter(db, otn)
    defender = _defender(db, appointer, defender_email)
    if matter is None:
        problems.append(("offense_tracking_number", "no matter has this number"))
    if defender is None:
        problems.append(("defender_email", "not an active defender of your office"))
    if (
        matter is not None
        and defender is not None
        and _open(db, matter.person_id, ident(defender.id))
    ):
        problems.append(("defender_email", "already appointed to this client"))
    if problems or matter is None or defender is None:
        raise AppointmentRefused(problems)
    assignment = _appoint(db, actor, matter.person_id, defender, now or utcnow(), "page")
    db.commit()
    return assignment


def end_appointment(
    db: Session, appointer: Viewer, assignment_id: int, actor: Actor
) -> ClientAssignment:
    """Ends an open appointment of one of the office's defenders. Commits."""
    _require_defense_office(appointer)
    assignment = db.get(ClientAssignment, assignment_id)
    defender = db.get(User, assignment.user_id) if assignment else None
    if (
        assignment is None
        or assignment.kind != AssignmentKind.defense
        or assignment.ended_at is not None
        or defender is None
        or defender.agency_id != appointer.agency_id
    ):
        raise AppointmentRefused([("assignment_id", "no such open appointment in your office")])
    assignment.ended_at = utcnow()
    db.add(assignment)
    security_event(
        db,
        actor,
        SecurityEventTag.defender_appointment_ended,
        assignment.person_id,
        {"assignment_id": assignment.id, "defender_id": defender.id},
        Purpose.defense,
    )
    db.commit()
    return assignment


def office_appointments(db: Session, appointer: Viewer) -> list[AppointmentLine]:
    """The office's open appointments, newest first."""
    _require_defense_office(appointer)
    rows = db.exec(
        select(ClientAssignment, User)
        .join(User, col(User.id) == ClientAssignment.user_id)
        .where(
            User.agency_id == appointer.agency_id,
            ClientAssignment.kind == AssignmentKind.defense,
            col(ClientAssignment.ended_at).is_(None),
        )
        .order_by(col(ClientAssignment.started_at).desc(), col(ClientAssignment.id).desc())
    )
    return [
        AppointmentLine(ident(a.id), a.person_id, u.display_name, a.started_at) for a, u in rows
    ]


def _read_date(text: str, today: date) -> date | str:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return "appointed_on: give a date as YYYY-MM-DD"
    if day > today:
        return "appointed_on: lies in the future"
    if day < today - OLDEST_APPOINTMENT:
        return "appointed_on: lies more than two years back"
    return day


@dataclass(frozen=True)
class AppointmentImport:
    """What an import did: the appointments made, and the lines it refused (valid_rows)."""

    made: int
    refused: list[tuple[str, str]]


def import_appointments(
    db: Session,
    appointer: Viewer,
    text: str,
    actor: Actor,
    mode: ImportMode = ImportMode.all_or_nothing,
    *,
    now: datetime | None = None,
) -> AppointmentImport:
    """Imports a court's appointment records (COLUMNS, with a header line). Every row is
    checked first and each bad row named with its line number and reason; then, as the
    appointer chose, the valid rows go in together (valid_rows) or, with one bad row, nothing
    does (all_or_nothing: raises). A bad header, or no valid row, refuses the file. Commits."""
    _require_defense_office(appointer)
    now = now or utcnow()
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != list(COLUMNS):
        raise AppointmentRefused([("line 1", f"the header must be: {','.join(COLUMNS)}")])
    problems: list[tuple[str, str]] = []
    wanted: list[tuple[int, User, date]] = []
    seen: set[tuple[int, int]] = set()
    for row in reader:
        line = f"line {reader.line_num}"
        if not any(cell.strip() for cell in row):
            continue
        if len(wanted) + len(problems) >= MAX_ROWS:
            # Too long a file is refused whole, whatever the mode: it is not the court's list.
            raise AppointmentRefused([(line, f"a file holds at most {MAX_ROWS} rows")])
        if len(row) != len(COLUMNS):
            problems.append((line, f"expected {len(COLUMNS)} columns, found {len(row)}"))
            continue
        otn, email, on = row
        reasons = []
        matter = _matter(db, otn)
        defender = _defender(db, appointer, email)
        day = _read_date(on, now.date())
        if matter is None:
            reasons.append("offense_tracking_number: no matter has this number")
        if defender is None:
            reasons.append("defender_email: not an active defender of your office")
        if isinstance(day, str):
            reasons.append(day)
        if matter is not None and defender is not None:
            key = (matter.person_id, ident(defender.id))
            if key in seen or _open(db, *key):
                reasons.append("defender_email: already appointed to this client")
            seen.add(key)
        if reasons:
            problems.append((line, "; ".join(reasons)))
        elif matter is not None and defender is not None and isinstance(day, date):
            wanted.append((matter.person_id, defender, day))
    if problems and (mode == ImportMode.all_or_nothing or not wanted):
        raise AppointmentRefused(problems)
    for person_id, defender, day in wanted:
        at = datetime.combine(day, datetime.min.time(), tzinfo=now.tzinfo)
        _appoint(db, actor, person_id, defender, at, "import")
    security_event(
        db,
        actor,
        SecurityEventTag.defender_appointments_imported,
        None,
        {
            "appointments": len(wanted),
            "mode": mode.value,
            "refused_lines": [int(line.removeprefix("line ")) for line, _ in problems],
        },
        Purpose.defense,
    )
    db.commit()
    return AppointmentImport(made=len(wanted), refused=problems)
