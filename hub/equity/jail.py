"""Jail bookings (issue 16, item 3): the jail's monthly CSV of bookings of persons the hub
knows, with the days each spent in custody, imported whole or not at all (docs/equity.md has
the format). The outcomes count them before and after referral; no page shows a row.

Every row is checked; a bad file is refused with every bad line and its reason at once, and
nothing is written. Re-importing a month supersedes the earlier import and keeps it.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, SQLModel, col, select

from hub.audit.log import Actor
from hub.clients.models import Person
from hub.equity.models import JailBooking, JailBookingImport
from hub.equity.population import (
    EARLIEST_MONTH,
    ImportRefused,
    LineError,
    csv_records,
    one_month,
    record_import,
)
from hub.referrals.rules import current_rules
from hub.vocabulary import SecurityEventTag

COLUMNS = ["person_id", "booked_on", "jail_days"]
MAX_BYTES = 2_000_000
MAX_JAIL_DAYS = 3660  # ten years: a longer stay on one booking is a typing error
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class BookingRow:
    line: int
    person_id: int
    booked_on: date
    jail_days: int


@dataclass(frozen=True)
class BookingFile:
    month: str
    rows: list[BookingRow]
    sha256: str


def _row(line: int, values: dict[str, str], today: date) -> tuple[BookingRow | None, list[str]]:
    reasons = []
    person_text = values["person_id"]
    person_id = int(person_text) if person_text.isdigit() and len(person_text) <= 12 else None
    if not person_id:
        reasons.append("person_id must be the hub's record number of the person")
    booked_on = None
    if _DATE.match(values["booked_on"]):
        try:
            booked_on = date.fromisoformat(values["booked_on"])
        except ValueError:
            booked_on = None
    if booked_on is None:
        reasons.append("booked_on must be a date, YYYY-MM-DD")
    elif not f"{EARLIEST_MONTH}-01" <= booked_on.isoformat() <= today.isoformat():
        reasons.append(f"booked_on must be from {EARLIEST_MONTH}-01 to today")
    days_text = values["jail_days"]
    jail_days = int(days_text) if days_text.isdigit() and len(days_text) <= 5 else None
    if jail_days is None or jail_days > MAX_JAIL_DAYS:
        reasons.append(f"jail_days must be a whole number from 0 to {MAX_JAIL_DAYS}")
    if reasons or person_id is None or booked_on is None or jail_days is None:
        return None, reasons
    return BookingRow(line, person_id, booked_on, jail_days), []


def parse_booking_file(data: bytes, today: date) -> BookingFile:
    """Checks the whole file and returns its rows, or raises ImportRefused naming every bad
    line. One file is one month: every booking must fall in the same month."""
    errors: list[LineError] = []
    rows: list[BookingRow] = []
    months: set[str] = set()
    seen: dict[tuple[int, date], int] = {}
    for record in csv_records(data, COLUMNS, MAX_BYTES):
        if isinstance(record, LineError):
            errors.append(record)
            continue
        line, values = record
        row, reasons = _row(line, values, today)
        errors.extend(LineError(line, reason) for reason in reasons)
        if row is None:
            continue
        months.add(row.booked_on.strftime("%Y-%m"))
        key = (row.person_id, row.booked_on)
        if key in seen:
            errors.append(LineError(line, f"repeats the person and date of line {seen[key]}"))
            continue
        seen[key] = line
        rows.append(row)
    month = one_month(months, len(rows), errors)
    return BookingFile(month=month, rows=rows, sha256=hashlib.sha256(data).hexdigest())


def _unknown_persons(db: Session, rows: list[BookingRow]) -> list[LineError]:
    wanted = {row.person_id for row in rows}
    known = set(db.exec(select(Person.id).where(col(Person.id).in_(wanted))).all())
    return [
        LineError(row.line, "person_id names no person the hub knows")
        for row in rows
        if row.person_id not in known
    ]


def import_jail_bookings(
    db: Session, actor: Actor, user_id: int, data: bytes, now: datetime
) -> JailBookingImport:
    """Imports one month of the jail's bookings, superseding (and keeping) an earlier import of
    that month; writes it with its log entry and commits, or nothing."""
    parsed = parse_booking_file(data, now.astimezone(current_rules(db).tz).date())
    unknown = _unknown_persons(db, parsed.rows)
    if unknown:
        raise ImportRefused(unknown)
    previous = db.exec(
        select(JailBookingImport).where(
            JailBookingImport.month == parsed.month,
            col(JailBookingImport.superseded_at).is_(None),
        )
    ).all()
    batch = JailBookingImport(
        month=parsed.month,
        imported_at=now,
        imported_by_id=user_id,
        file_sha256=parsed.sha256,
        rows=len(parsed.rows),
    )

    def bookings(import_id: int) -> list[SQLModel]:
        return [
            JailBooking(
                import_id=import_id,
                person_id=row.person_id,
                booked_on=row.booked_on,
                jail_days=row.jail_days,
            )
            for row in parsed.rows
        ]

    # The log names the month and the counts, never a row: who was booked is not its to repeat.
    return record_import(
        db, actor, batch, previous, bookings, SecurityEventTag.jail_bookings_imported
    )
