"""The console's pictures (issue 17, item 9): the log's activity per site-local day and the open
review flags by kind. Counts only, made in SQL: no entry, user or client is read into Python,
and nothing personal reaches the chart or its table.

The days' bounds are computed here in the site's zone (a day when the clocks change has 23 or
25 hours); hub.audit.services.entry_counts counts each day's entries in SQL, and
hub.privacy.flags.listing.open_flags_by_rule the open flags."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlmodel import Session

from hub.audit.services import entry_counts
from hub.charts import Chart, bars
from hub.db import utcnow
from hub.privacy.flags.listing import open_flags_by_rule
from hub.privacy.search import day_start, site_zone
from hub.vocabulary import FlagRule

DAYS = 30
# What the chart tells apart (hub.audit.services.entry_counts).
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
    starts = [day_start(first + timedelta(days=n), zone) for n in range(days + 1)]
    return [
        DayCounts(
            first + timedelta(days=n),
            disclosures=counts.disclosures,
            withheld=counts.withheld,
            security=counts.security,
        )
        for n, counts in enumerate(entry_counts(db, starts))
    ]


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
