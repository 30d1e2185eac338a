"""The console's pictures (issue 17, item 9): the log's activity per site-local day and the open
review flags by kind. Counts only, made in SQL: no entry, user or client is read into Python,
and nothing personal reaches the chart or its table.

The log can hold millions of entries: the day counts read one range of the `recorded_at` index
(the days' bounds are computed here in the site's zone, so a day with a change of the clocks
has its 23 or 25 hours) and group inside the database."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import case, func, select
from sqlmodel import Session, col

from hub.audit.models import LogEntry
from hub.charts import Chart, bars
from hub.db import utcnow
from hub.privacy.models import ReviewFlag
from hub.privacy.search import day_start, site_zone
from hub.vocabulary import FlagRule, FlagStatus, LogKind, LogOutcome

DAYS = 30
_T = LogEntry.__table__  # type: ignore[attr-defined]
# What the chart tells apart: disclosures, reads withheld in full, and security events.
SERIES = ("disclosures", "withheld", "security events")


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


def log_activity(db: Session, today: date, zone: tzinfo, days: int = DAYS) -> list[DayCounts]:
    """Entries per site-local day for the `days` days ending with `today`, oldest first."""
    first = today - timedelta(days=days - 1)
    starts: list[datetime] = [day_start(first + timedelta(days=n), zone) for n in range(days + 1)]
    recorded = _T.c.recorded_at
    day = case(*((recorded < starts[n + 1], n) for n in range(days - 1)), else_=days - 1)
    bucket = case(
        (_T.c.kind == LogKind.security.value, 2),
        (_T.c.outcome == LogOutcome.withheld.value, 1),
        else_=0,
    )
    inner = (
        select(day.label("day"), bucket.label("bucket"))
        .where(recorded >= starts[0], recorded < starts[-1])
        .subquery()
    )
    counts = [[0, 0, 0] for _ in range(days)]
    for n, which, count in db.execute(
        select(inner.c.day, inner.c.bucket, func.count()).group_by(inner.c.day, inner.c.bucket)
    ):
        counts[n][which] = count
    return [
        DayCounts(first + timedelta(days=n), disclosures=c[0], withheld=c[1], security=c[2])
        for n, c in enumerate(counts)
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
