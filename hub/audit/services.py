"""Services over the log: export for review, and erasure of personal parts at the end of
retention (both leave an entry in the log themselves); counts of entries over time."""

import csv
import getpass
import io
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TextIO

from sqlalchemy import ColumnElement, Engine, func, literal_column, null, select, union_all, update
from sqlmodel import Session

from hub.audit.log import Actor, Event, append, canonical_json, timestamp
from hub.audit.models import LogEntry, LogRetention
from hub.db import table_of, utcnow
from hub.settings import get_settings
from hub.vocabulary import LogKind, LogOutcome, SecurityEventTag

EXPORT_FIELDS = (
    "seq",
    "recorded_at",
    "kind",
    "tag",
    "outcome",
    "purpose",
    "actor_role",
    "actor_agency_id",
    "categories",
    "policy_version",
    "actor_user_id",
    "person_id",
    "request_id",
    "address",
    "detail",
    "salt",
    "erased_at",
    "personal_digest",
    "leaf_hash",
)


def command_line_actor() -> Actor:
    """The actor for entries made from `hub` on the server: no user, the OS account in detail."""
    return Actor(request_id=f"cli-{uuid.uuid4().hex[:16]}", address="local")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def export_rows(
    engine: Engine,
    since: date | None,
    until: date | None,
    conditions: Sequence[ColumnElement[bool]] = (),
) -> Iterator[dict[str, Any]]:
    """Entries recorded on or after `since` and before the day after `until` (and meeting any
    further `conditions`, e.g. the privacy console's filters), streamed."""
    table = table_of(LogEntry)
    query = (
        select(*(table.c[name] for name in EXPORT_FIELDS)).where(*conditions).order_by(table.c.seq)
    )
    if since is not None:
        query = query.where(table.c.recorded_at >= _day_start(since))
    if until is not None:
        query = query.where(table.c.recorded_at < _day_start(until) + timedelta(days=1))
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=5_000).execute(query)
        for row in result.mappings():
            record = dict(row)
            for name in ("recorded_at", "erased_at"):
                if record[name] is not None:
                    record[name] = timestamp(record[name])
            yield record


def export_log(
    db: Session, out: TextIO, fmt: str, since: date | None = None, until: date | None = None
) -> int:
    """Write the log (csv or jsonl) to `out`. The export is itself logged first, and committed,
    so that no copy leaves without a trace (CJIS AU-9: reading the log is an audited event)."""
    if fmt not in ("csv", "jsonl"):
        raise ValueError("the export format is csv or jsonl")
    append(
        db,
        command_line_actor(),
        Event(
            kind=LogKind.security,
            tag=SecurityEventTag.log_exported,
            outcome=LogOutcome.success,
            detail={
                "format": fmt,
                "since": since.isoformat() if since else None,
                "until": until.isoformat() if until else None,
                "os_user": _os_user(),
            },
        ),
    )
    db.commit()
    count = 0
    for line in export_lines(export_rows(db.get_bind(), since, until), fmt):  # type: ignore[arg-type]
        out.write(line)
        count += 1
    return count - (fmt == "csv")  # the header is not an entry


def export_lines(rows: Iterable[dict[str, Any]], fmt: str) -> Iterator[str]:
    """Exported rows as text lines: CSV (a header first) or JSON Lines (canonical JSON)."""
    if fmt == "jsonl":
        for record in rows:
            yield canonical_json(record).decode() + "\n"
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS)

    def written() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writeheader()
    yield written()
    for record in rows:
        for name in ("categories", "detail"):
            record[name] = None if record[name] is None else json.dumps(record[name])
        writer.writerow(record)
        yield written()


def retention_cutoff(now: datetime, years: int) -> datetime:
    """The start of the UTC day `years` before `now` (28 February for a 29 February)."""
    day = now.astimezone(UTC).date()
    try:
        then = day.replace(year=day.year - years)
    except ValueError:
        then = day.replace(year=day.year - years, day=28)
    return _day_start(then)


def erase_expired(db: Session, now: datetime | None = None) -> int:
    """Erase the personal part of entries recorded before the retention period (never fewer
    than six years: HIPAA 164.316(b)(2), 164.528; CJIS AU-11 asks one). Leaves, digests and
    public parts stay, so the tree verifies as before. The caller commits."""
    now = now or utcnow()
    cutoff = retention_cutoff(now, get_settings().retention_years)
    retention = db.get(LogRetention, 1)
    if retention is None:
        raise RuntimeError("log_retention has no row: run `hub migrate`")
    if retention.erase_before < cutoff:
        # The database lets this date move forward only, and never past now minus six years.
        retention.erase_before = cutoff
        db.add(retention)
        db.flush()
    table = table_of(LogEntry)
    erased = (
        db.connection()
        .execute(
            update(table)
            .where(table.c.erased_at.is_(None), table.c.recorded_at < cutoff)
            .values(
                actor_user_id=None,
                person_id=None,
                request_id=None,
                address=None,
                detail=null(),  # SQL NULL, not JSON null
                salt=None,
                erased_at=now,
            )
        )
        .rowcount
    )
    if erased:
        append(
            db,
            command_line_actor(),
            Event(
                kind=LogKind.security,
                tag=SecurityEventTag.log_erased,
                outcome=LogOutcome.success,
                detail={"erased": erased, "recorded_before": timestamp(cutoff)},
            ),
        )
    return int(erased)


# --- counts over time -------------------------------------------------------------------------

_T = table_of(LogEntry)
# A disclosure entry is disclosed or withheld (DisclosureOutcome); a security event succeeded,
# failed or was denied: the outcome alone tells the three apart, on its (outcome, seq) index.
_NOT_DISCLOSED = tuple(o.value for o in LogOutcome if o != LogOutcome.disclosed)


@dataclass(frozen=True)
class EntryCounts:
    disclosures: int
    withheld: int
    security: int


def _seq_bounds(db: Session, starts: Sequence[datetime]) -> list[int]:
    """The first seq recorded at or after each moment (the log's size past its last entry), in
    one query: two look-ups on the recorded_at index each."""
    recorded, seq = _T.c.recorded_at, _T.c.seq
    firsts = [
        select(func.min(seq))
        .where(recorded == select(func.min(recorded)).where(recorded >= s).scalar_subquery())
        .scalar_subquery()
        for s in starts
    ]
    size = select(func.coalesce(func.max(seq), -1) + 1).scalar_subquery()
    *found, end = db.execute(select(*firsts, size)).one()
    return [end if first is None else first for first in found]


def entry_counts(db: Session, starts: Sequence[datetime]) -> list[EntryCounts]:
    """Entries recorded in each span starts[i] <= recorded_at < starts[i + 1], by what they
    record, counted in SQL however long the log (5 M entries and more)."""
    # A span is a seq range (recorded_at never goes back along seq), whose size is the
    # range's since seq is gapless.
    bounds = _seq_bounds(db, starts)
    spans = len(bounds) - 1
    seq, outcome = _T.c.seq, _T.c.outcome
    # Only the entries that are not disclosures are counted, each span on its own range of the
    # (outcome, seq) index (a covering index: no row is read); disclosures, most of the log, are
    # what is left. One UNION ALL: a quarter of the time of one scan sorting seqs into spans.
    per_span = union_all(
        *(
            select(literal_column(str(n)).label("span"), outcome, func.count())
            .where(outcome.in_(_NOT_DISCLOSED), seq >= bounds[n], seq < bounds[n + 1])
            .group_by(outcome)
            for n in range(spans)
        )
    )
    withheld, security = [0] * spans, [0] * spans
    for n, which, count in db.execute(per_span):
        if which == LogOutcome.withheld.value:
            withheld[n] += count
        else:
            security[n] += count
    return [
        EntryCounts(
            disclosures=bounds[n + 1] - bounds[n] - withheld[n] - security[n],
            withheld=withheld[n],
            security=security[n],
        )
        for n in range(spans)
    ]
