"""Earlier matters and warrants (legal category): entered one at a time by a prosecutor of an
office that has a matter of the client's, or imported from the office's case system as CSV.

Every row of an import is checked before anything is written, and every refusal is reported
with its line number and reasons; the prosecutor chooses whether the valid rows go in (one
transaction) or nothing does when any row is bad. Nothing is ever half-imported.
Columns: docs/priors-import.md.
"""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append
from hub.charging.models import ChargingMatter
from hub.permissions import allowed
from hub.priors.models import PriorMatter, Warrant
from hub.vocabulary import (
    Action,
    ImportMode,
    PriorSource,
    Purpose,
    SecurityEventTag,
    WarrantStatus,
)

# A court record from before 1900 is a typing error, and one from the future is too.
EARLIEST = date(1900, 1, 1)
MAX_IMPORT_ROWS = 5000


class PriorsError(ValueError):
    """An earlier matter or warrant breaks a rule; the message says which. Nothing was changed."""


class ImportKind(StrEnum):
    prior_matters = "prior_matters"
    warrants = "warrants"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _check_day(value: date | None, what: str, today: date) -> list[str]:
    if value is None:
        return []
    if value < EARLIEST:
        return [f"{what}: {value.isoformat()} is before {EARLIEST.year}"]
    if value > today:
        return [f"{what}: {value.isoformat()} is in the future"]
    return []


def _day_in_range(value: date | None, info: ValidationInfo) -> date | None:
    """With the context {"today": date}: a date from 1900 to today, each field on its own, so
    that a row's every error is reported at once."""
    today = (info.context or {}).get("today")
    if value is not None and today is not None:
        errors = _check_day(value, str(info.field_name), today)
        if errors:
            raise ValueError(errors[0].split(": ", 1)[1])
    return value


class PriorMatterIn(_Entry):
    """One earlier court matter, as the prosecutor's case system holds it."""

    case_number: str = Field(min_length=1, max_length=40)
    court: str = Field(min_length=1, max_length=120)
    offense_code: str = Field(min_length=1, max_length=40)
    offense_description: str = Field(min_length=1, max_length=200)
    level: str = Field(min_length=1, max_length=40)
    filed_on: date
    disposed_on: date | None = None
    disposition: str | None = Field(default=None, max_length=120)

    _days = field_validator("filed_on", "disposed_on")(_day_in_range)

    @model_validator(mode="after")
    def _disposed_after_filed(self) -> "PriorMatterIn":
        if self.disposed_on is not None and self.disposed_on < self.filed_on:
            raise ValueError("disposed_on: before filed_on")
        if self.disposition and self.disposed_on is None:
            raise ValueError("disposed_on: required with a disposition")
        return self

    def day_errors(self, today: date) -> list[str]:
        return _check_day(self.filed_on, "filed_on", today) + _check_day(
            self.disposed_on, "disposed_on", today
        )


class WarrantIn(_Entry):
    """One warrant naming the client."""

    issued_on: date
    court: str = Field(min_length=1, max_length=120)
    kind: str = Field(min_length=1, max_length=60)
    status: WarrantStatus

    _days = field_validator("issued_on")(_day_in_range)

    def day_errors(self, today: date) -> list[str]:
        return _check_day(self.issued_on, "issued_on", today)


PRIOR_MATTER_COLUMNS = ("person_id", *PriorMatterIn.model_fields)
WARRANT_COLUMNS = ("person_id", *WarrantIn.model_fields)
COLUMNS = {ImportKind.prior_matters: PRIOR_MATTER_COLUMNS, ImportKind.warrants: WARRANT_COLUMNS}


def field_errors(error: ValidationError) -> list[str]:
    """Every error of a form or a row, each as "field: what is wrong"."""
    messages = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        messages.append(f"{where}: {message}" if where else message)
    return messages


def office_clients(db: Session, prosecutor: Viewer, person_ids: set[int]) -> set[int]:
    """Those of the persons that have a charging matter at the prosecutor's office: the only
    clients the office records earlier matters for. Another person answers as no one."""
    if not person_ids:
        return set()
    return set(
        db.exec(
            select(ChargingMatter.person_id).where(
                ChargingMatter.prosecuting_agency_id == prosecutor.agency_id,
                col(ChargingMatter.person_id).in_(sorted(person_ids)),
            )
        ).all()
    )


def _require_recorder(viewer: Viewer) -> None:
    if not allowed(viewer.role, Action.priors_record):
        raise PriorsError(f"a {viewer.role.value} does not record earlier matters")


def _event(actor: Actor, tag: SecurityEventTag, person_id: int | None, detail: Any) -> Event:
    return Event(
        kind="security",
        tag=tag.value,
        outcome="success",
        purpose=Purpose.charging_decision.value,
        person_id=person_id,
        detail=detail,
    )


def _prior_matter(
    person_id: int, entry: PriorMatterIn, by: int, source: PriorSource
) -> PriorMatter:
    return PriorMatter(person_id=person_id, recorded_by_id=by, source=source, **entry.model_dump())


def _warrant(person_id: int, entry: WarrantIn, by: int, source: PriorSource) -> Warrant:
    return Warrant(person_id=person_id, recorded_by_id=by, source=source, **entry.model_dump())


def record_entry(
    db: Session,
    prosecutor: Viewer,
    person_id: int,
    entry: PriorMatterIn | WarrantIn,
    actor: Actor,
    today: date,
) -> PriorMatter | Warrant:
    """Records one earlier matter or warrant typed in by a prosecutor; logged. Commits."""
    _require_recorder(prosecutor)
    if person_id not in office_clients(db, prosecutor, {person_id}):
        raise PriorsError("no client of your office has that record number")
    errors = entry.day_errors(today)
    if errors:
        raise PriorsError("; ".join(errors))
    row: PriorMatter | Warrant
    if isinstance(entry, PriorMatterIn):
        row = _prior_matter(person_id, entry, prosecutor.user_id, PriorSource.entered)
        tag = SecurityEventTag.prior_matter_recorded
    else:
        row = _warrant(person_id, entry, prosecutor.user_id, PriorSource.entered)
        tag = SecurityEventTag.warrant_recorded
    db.add(row)
    db.flush()
    append(db, actor, _event(actor, tag, person_id, {"id": row.id, "source": "entered"}))
    db.commit()
    return row


@dataclass(frozen=True)
class RefusedRow:
    line: int  # the line of the file, the header being line 1
    reasons: list[str]


@dataclass
class ImportReport:
    """What an import found: the rows it can take and the ones it refuses, and what it did."""

    kind: ImportKind
    mode: ImportMode
    rows: int = 0
    valid: list[tuple[int, int, PriorMatterIn | WarrantIn]] = field(default_factory=list)
    refused: list[RefusedRow] = field(default_factory=list)
    imported: int = 0

    @property
    def refused_file(self) -> bool:
        """Refused whole: a bad header, or a bad row with "import nothing"."""
        return self.imported == 0 and bool(self.refused)


def _parse_rows(
    text: str, kind: ImportKind, today: date, report: ImportReport
) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    expected = COLUMNS[kind]
    missing = [c for c in expected if c not in header]
    unknown = [h for h in header if h not in expected]
    if missing or unknown or len(set(header)) != len(header):
        reasons = [f"missing column: {c}" for c in missing]
        reasons += [f"unknown column: {c}" for c in unknown]
        if len(set(header)) != len(header):
            reasons.append("a column appears twice")
        report.refused.append(RefusedRow(1, reasons))
        return []
    rows = []
    for raw in reader:
        line = reader.line_num
        if None in raw:
            report.refused.append(RefusedRow(line, ["more cells than columns"]))
            continue
        rows.append((line, {k.strip(): (v or "").strip() for k, v in raw.items()}))
    return rows


def check_import(
    db: Session,
    prosecutor: Viewer,
    text: str,
    kind: ImportKind,
    mode: ImportMode,
    today: date,
) -> ImportReport:
    """Checks every row of an import file and reports; writes nothing."""
    _require_recorder(prosecutor)
    report = ImportReport(kind=kind, mode=mode)
    rows = _parse_rows(text, kind, today, report)
    report.rows = len(rows) + sum(1 for r in report.refused if r.line > 1)
    if len(rows) > MAX_IMPORT_ROWS:
        report.refused.append(RefusedRow(1, [f"more than {MAX_IMPORT_ROWS} rows: split the file"]))
        return report
    wanted = {int(r["person_id"]) for _, r in rows if r["person_id"].isdigit()}
    known = office_clients(db, prosecutor, {p for p in wanted if p < 2**31})
    model: type[PriorMatterIn] | type[WarrantIn] = (
        PriorMatterIn if kind == ImportKind.prior_matters else WarrantIn
    )
    for line, row in rows:
        reasons: list[str] = []
        person = row.pop("person_id")
        person_id = int(person) if person.isdigit() else None
        if person_id is None or person_id not in known:
            reasons.append("person_id: no client of your office has that record number")
        cells = {k: (v or None) for k, v in row.items()}
        try:
            entry = model.model_validate(cells, context={"today": today})
        except ValidationError as error:
            reasons += field_errors(error)
        if reasons:
            report.refused.append(RefusedRow(line, reasons))
        else:
            assert person_id is not None
            report.valid.append((line, person_id, entry))
    report.refused.sort(key=lambda r: r.line)
    return report


def import_file(
    db: Session,
    prosecutor: Viewer,
    text: str,
    kind: ImportKind,
    mode: ImportMode,
    actor: Actor,
    today: date,
) -> ImportReport:
    """Checks the file, then imports its valid rows in one transaction, or nothing when the
    mode says so and a row is bad (or the header is). One security event names the counts (no
    row content). Commits when it imports."""
    report = check_import(db, prosecutor, text, kind, mode, today)
    header_bad = any(r.line == 1 for r in report.refused)
    if header_bad or not report.valid or (mode == ImportMode.all_or_nothing and report.refused):
        db.rollback()
        return report
    build: Callable[[int, Any, int, PriorSource], PriorMatter | Warrant] = (
        _prior_matter if kind == ImportKind.prior_matters else _warrant
    )
    db.add_all(
        build(pid, entry, prosecutor.user_id, PriorSource.imported)
        for _, pid, entry in report.valid
    )
    db.flush()
    report.imported = len(report.valid)
    detail = {
        "kind": kind.value,
        "mode": mode.value,
        "imported": report.imported,
        "refused_lines": [r.line for r in report.refused],
        "person_ids": sorted({pid for _, pid, _ in report.valid}),
    }
    append(db, actor, _event(actor, SecurityEventTag.priors_imported, None, detail))
    db.commit()
    return report
