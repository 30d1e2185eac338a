"""The console's pictures (issue 17, item 9): the log's activity per site-local day and the open
review flags by kind. Counts only, made in SQL: no entry, user or client is read into Python,
and nothing personal reaches the chart or its table.

The log can hold millions of entries: each day's bounds (computed in the site's zone, so a day
with a change of the clocks has its 23 or 25 hours) are found on the `recorded_at` index and
become a seq range, as the console's date filters do; a day's size is then the range's, and only
the entries that are not disclosures are counted, grouped inside the database."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import func, literal_column, select, union_all
from sqlmodel import Session, col

from hub.audit.models import LogEntry
from hub.charts import Chart, bars
from hub.db import utcnow
from hub.privacy.models import ReviewFlag
from hub.privacy.search import day_start, site_zone
from hub.vocabulary import FlagRule, FlagStatus, LogOutcome

DAYS = 30
_T = LogEntry.__table__  # type: ignore[attr-defined]
# What the chart tells apart: disclosures, reads withheld in full, and security events. A
# disclosure entry is disclosed or withheld (DisclosureOutcome); a security event succeeded,
# failed or was denied: the outcome alone tells the three apart, on its (outcome, seq) index.
SERIES = ("disclosures", "withheld", "security events")
_NOT_DISCLOSED = tuple(o.value for o in LogOutcome if o != LogOutcome.disclosed)


@dataclass(frozen=True)
class DayCounts:
    day: date
    disclosures: int = 0
    withheld: int = 0
    security: int = 0

    @property
    def total(self) -> int:
        return self.disclosures + self.withheld + self.security


@dataclass(frozen=True)
class ConsoleActivity:
    days: tuple[DayCounts, ...]  # the last DAYS full days, oldest first
    today: DayCounts  # so far: kept out of the chart, which then stays the same all day
    flags: tuple[tuple[FlagRule, int], ...]  # open flags by rule, every rule
    activity_chart: Chart
    flags_chart: Chart


def _day_bounds(db: Session, starts: list[datetime]) -> list[int]:
    """The first seq of each moment in `starts`, or the log's size past its last entry: as
    hub.privacy.search.first_seq_from finds one, all in one query."""
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


def log_activity(db: Session, today: date, zone: tzinfo, days: int = DAYS) -> list[DayCounts]:
    """Entries per site-local day for the `days` days ending with `today`, oldest first."""
    first = today - timedelta(days=days - 1)
    starts = [day_start(first + timedelta(days=n), zone) for n in range(days + 1)]
    # A day is a seq range (recorded_at never goes back along seq): two look-ups on the
    # recorded_at index per bound, and its size is what the range spans (seq is gapless).
    bounds = _day_bounds(db, starts)
    seq, outcome = _T.c.seq, _T.c.outcome
    # Only the entries that are not disclosures are counted, each day on its own range of the
    # (outcome, seq) index (a covering index: no row is read); disclosures, most of the log, are
    # what is left. One UNION ALL: a quarter of the time of one scan sorting seqs into days.
    per_day = union_all(
        *(
            select(literal_column(str(n)).label("day"), outcome, func.count())
            .where(outcome.in_(_NOT_DISCLOSED), seq >= bounds[n], seq < bounds[n + 1])
            .group_by(outcome)
            for n in range(days)
        )
    )
    withheld, security = [0] * days, [0] * days
    for n, which, count in db.execute(per_day):
        if which == LogOutcome.withheld.value:
            withheld[n] += count
        else:
            security[n] += count
    return [
        DayCounts(
            first + timedelta(days=n),
            disclosures=bounds[n + 1] - bounds[n] - withheld[n] - security[n],
            withheld=withheld[n],
            security=security[n],
        )
        for n in range(days)
    ]


def open_flags_by_rule(db: Session) -> list[tuple[FlagRule, int]]:
    """How many review flags are open, for every rule (zero where none)."""
    found = dict(
        db.execute(
            select(col(ReviewFlag.rule), func.count())
            .where(col(ReviewFlag.status) == FlagStatus.open)
            .group_by(col(ReviewFlag.rule))
        ).all()
    )
    return [(rule, int(found.get(rule, 0))) for rule in FlagRule]


def rule_words(rule: FlagRule) -> str:
    return rule.value.replace("_", " ")


def console_activity(db: Session, now: datetime | None = None) -> ConsoleActivity:
    """The console's two pictures with their data, for the last DAYS site-local days."""
    zone = site_zone(db)
    today = (now or utcnow()).astimezone(zone).date()
    *days, so_far = log_activity(db, today, zone, DAYS + 1)
    flags = open_flags_by_rule(db)
    activity_chart = bars(
        f"Log entries per day, the last {DAYS} full days",
        [f"{d.day:%b} {d.day.day}" for d in days],
        [
            (SERIES[0], [d.disclosures for d in days]),
            (SERIES[1], [d.withheld for d in days]),
            (SERIES[2], [d.security for d in days]),
        ],
        stacked=True,
    )
    flags_chart = bars(
        "Open review flags by kind",
        [rule_words(rule) for rule, _ in flags],
        [("open flags", [count for _, count in flags])],
        horizontal=True,
    )
    return ConsoleActivity(
        days=tuple(days),
        today=so_far,
        flags=tuple(flags),
        activity_chart=activity_chart,
        flags_chart=flags_chart,
    )
