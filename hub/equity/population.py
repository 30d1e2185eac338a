"""The eligible population: the police department's monthly CSV of arrests for LEAD-eligible
offenses, imported whole or not at all (docs/equity.md has the format).

Every row is checked; a bad file is refused with every bad line and its reason at once, and
nothing is written. Re-importing a month of the same agency supersedes the earlier import and
keeps it (`superseded_at`), so a correction never erases what was reported before.
"""

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from sqlmodel import Session, SQLModel, col, select

from hub.accounts.models import Agency
from hub.audit.log import Actor, Event, append_and_commit
from hub.equity.models import EligibleArrestCount, EligibleArrestImport
from hub.vocabulary import AgencyKind, SecurityEventTag

COLUMNS = ["month", "area", "race_ethnicity", "gender", "arrests"]
MAX_BYTES = 1_000_000
MAX_ARRESTS = 100_000
EARLIEST_MONTH = "2000-01"
# HUD HMIS FY2024 data standards: 3.04 RaceAndEthnicity (1-7 may combine; 8, 9, 99 stand alone)
# and 3.06 Gender.
RACE_CODES = frozenset(range(1, 8))
RACE_UNKNOWN_CODES = frozenset({8, 9, 99})
GENDER_CODES = frozenset({0, 1, 2, 3, 4, 5, 6, 8, 9, 99})
MULTIRACIAL = "multiracial"
UNKNOWN = "unknown"
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_AREA = re.compile(r"^[\w .,'/()#-]{1,100}$")


def race_group(codes: list[int] | tuple[int, ...]) -> str:
    """The reporting group of a set of HMIS 3.04 codes: the one code, 'multiracial' for two or
    more, 'unknown' for none or only 8, 9, 99. Referrals and arrests are grouped alike."""
    known = sorted(set(codes) & RACE_CODES)
    if not known:
        return UNKNOWN
    return str(known[0]) if len(known) == 1 else MULTIRACIAL


@dataclass(frozen=True)
class LineError:
    line: int  # 1 is the header
    reason: str


class ImportRefused(ValueError):
    """The file is refused whole: `errors` names every bad line."""

    def __init__(self, errors: list[LineError]) -> None:
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


@dataclass(frozen=True)
class ArrestRow:
    area: str
    race_group: str
    gender: int
    arrests: int


@dataclass(frozen=True)
class ArrestFile:
    month: str
    rows: list[ArrestRow]
    sha256: str


def _codes(text: str) -> list[int] | None:
    parts = [p.strip() for p in text.split(";")]
    if not parts or not all(p.isdigit() and len(p) <= 2 for p in parts):
        return None
    codes = [int(p) for p in parts]
    if len(set(codes)) != len(codes):
        return None
    if all(c in RACE_CODES for c in codes):
        return codes
    if len(codes) == 1 and codes[0] in RACE_UNKNOWN_CODES:
        return codes
    return None


def _row(values: dict[str, str], now: datetime) -> tuple[str, ArrestRow | None, list[str]]:
    reasons = []
    month = values.get("month", "")
    match = _MONTH.match(month)
    if not match:
        reasons.append("month must be YYYY-MM")
    elif month < EARLIEST_MONTH or month > now.strftime("%Y-%m"):
        reasons.append(f"month must be from {EARLIEST_MONTH} to this month")
    area = values.get("area", "")
    if not _AREA.match(area):
        reasons.append("area must be 1 to 100 letters, digits, spaces or . , ' / ( ) # -")
    race = _codes(values.get("race_ethnicity", ""))
    if race is None:
        reasons.append(
            "race_ethnicity must be HMIS 3.04 codes 1-7 separated by ';', or one of 8, 9, 99"
        )
    gender_text = values.get("gender", "")
    gender = int(gender_text) if gender_text.isdigit() and len(gender_text) <= 2 else None
    if gender not in GENDER_CODES:
        reasons.append("gender must be one HMIS 3.06 code (0-6, 8, 9, 99)")
    arrests_text = values.get("arrests", "")
    arrests = int(arrests_text) if arrests_text.isdigit() and len(arrests_text) <= 6 else None
    if arrests is None or arrests > MAX_ARRESTS:
        reasons.append(f"arrests must be a whole number from 0 to {MAX_ARRESTS}")
    if reasons or race is None or gender is None or arrests is None:
        return month, None, reasons
    return month, ArrestRow(area, race_group(race), gender, arrests), []


def csv_records(
    data: bytes, columns: list[str], max_bytes: int
) -> Iterator[tuple[int, dict[str, str]] | LineError]:
    """Each data line of a CSV file with `columns` as its header, as (line, values), or a
    LineError for a line with the wrong number of fields; raises ImportRefused for a problem of
    the whole file (size, encoding, header). Blank lines are skipped; line 1 is the header."""
    if len(data) > max_bytes:
        raise ImportRefused([LineError(0, f"the file is larger than {max_bytes} bytes")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused([LineError(0, "the file is not UTF-8 text")]) from None
    if "\x00" in text:
        raise ImportRefused([LineError(0, "the file holds a NUL character")])
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != columns:
        raise ImportRefused([LineError(1, f"the header must be {','.join(columns)}")])
    for record in reader:
        if not any(field.strip() for field in record):
            continue
        if len(record) != len(columns):
            yield LineError(reader.line_num, f"expected {len(columns)} fields, found {len(record)}")
            continue
        yield reader.line_num, dict(zip(columns, (f.strip() for f in record), strict=True))


def one_month(months: set[str], rows: int, errors: list[LineError]) -> str:
    """The file's one month, or ImportRefused with every error: one file is one month."""
    if len(months) > 1:
        errors.append(
            LineError(0, f"one file is one month; this one has {', '.join(sorted(months))}")
        )
    if not rows and not errors:
        errors.append(LineError(0, "the file has no rows"))
    if errors:
        raise ImportRefused(sorted(errors, key=lambda e: e.line))
    return months.pop()


def parse_arrest_file(data: bytes, now: datetime) -> ArrestFile:
    """Checks the whole file and returns its rows, or raises ImportRefused naming every bad
    line. One file is one month: every row must name the same month."""
    errors: list[LineError] = []
    rows: list[ArrestRow] = []
    months: set[str] = set()
    seen: dict[tuple[str, str, int], int] = {}
    for record in csv_records(data, COLUMNS, MAX_BYTES):
        if isinstance(record, LineError):
            errors.append(record)
            continue
        line, values = record
        month, row, reasons = _row(values, now)
        errors.extend(LineError(line, reason) for reason in reasons)
        if row is None:
            continue
        months.add(month)
        key = (row.area.casefold(), row.race_group, row.gender)
        if key in seen:
            errors.append(
                LineError(
                    line, f"repeats the area, race/ethnicity group and gender of line {seen[key]}"
                )
            )
            continue
        seen[key] = line
        rows.append(row)
    month = one_month(months, len(rows), errors)
    return ArrestFile(month=month, rows=rows, sha256=hashlib.sha256(data).hexdigest())


class MonthImport(Protocol):
    """An imported month (hub.equity.models): a later import of it supersedes it."""

    id: int | None
    month: str
    rows: int
    imported_at: datetime
    superseded_at: datetime | None
    superseded_by_id: int | None


B = TypeVar("B", bound=MonthImport)


def record_import(
    db: Session,
    actor: Actor,
    batch: B,
    previous: Sequence[B],
    rows: Callable[[int], Iterable[SQLModel]],
    tag: SecurityEventTag,
    **detail: object,
) -> B:
    """Writes an imported month and its rows, marks the earlier imports of that month replaced
    and keeps them (issue 16), logs the import and commits: all of it, or nothing."""
    db.add(batch)
    db.flush()
    assert batch.id is not None
    for earlier in previous:
        earlier.superseded_at = batch.imported_at
        earlier.superseded_by_id = batch.id
        db.add(earlier)
    db.add_all(rows(batch.id))
    append_and_commit(
        db,
        actor,
        Event(
            kind="security",
            tag=tag.value,
            outcome="success",
            detail={
                "import_id": batch.id,
                **detail,
                "month": batch.month,
                "rows": batch.rows,
                "superseded": sorted(e.id for e in previous if e.id is not None),
            },
        ),
    )
    return batch


def police_agencies(db: Session) -> list[Agency]:
    return list(
        db.exec(select(Agency).where(Agency.kind == AgencyKind.police).order_by(col(Agency.name)))
    )


def import_eligible_arrests(
    db: Session, actor: Actor, agency_id: int, user_id: int, data: bytes, now: datetime
) -> EligibleArrestImport:
    """Imports one month of one police agency's eligible arrests, superseding (and keeping) an
    earlier import of that month; writes it with its log entry and commits, or nothing."""
    agency = db.get(Agency, agency_id)
    if agency is None or agency.kind != AgencyKind.police:
        raise ImportRefused([LineError(0, "choose a police agency")])
    parsed = parse_arrest_file(data, now)
    previous = db.exec(
        select(EligibleArrestImport).where(
            EligibleArrestImport.agency_id == agency_id,
            EligibleArrestImport.month == parsed.month,
            col(EligibleArrestImport.superseded_at).is_(None),
        )
    ).all()
    batch = EligibleArrestImport(
        agency_id=agency_id,
        month=parsed.month,
        imported_at=now,
        imported_by_id=user_id,
        file_sha256=parsed.sha256,
        rows=len(parsed.rows),
    )

    def counts(import_id: int) -> list[SQLModel]:
        return [
            EligibleArrestCount(
                import_id=import_id,
                area=row.area,
                race_group=row.race_group,
                gender=row.gender,
                arrests=row.arrests,
            )
            for row in parsed.rows
        ]

    return record_import(
        db,
        actor,
        batch,
        previous,
        counts,
        SecurityEventTag.eligible_arrests_imported,
        agency_id=agency_id,
    )
