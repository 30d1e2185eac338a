"""The site's local days and months of UTC timestamp columns, in SQL, on SQLite as on PostgreSQL:
the equity figures group by them, the prosecutor's queue orders, filters and counts by them."""

from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from sqlalchemy import Date, case, cast, func
from sqlalchemy.sql.elements import ColumnElement


class SiteClock:
    """The site's local time of UTC timestamp columns, in SQL: months and days are the site's
    (hub.referrals.rules: the site rules' timezone), not UTC's. PostgreSQL converts with its
    own zone database; SQLite has none, so it adds the zone's UTC offset, one CASE branch per
    offset change between `since` and `until` (two a year where clocks change)."""

    def __init__(self, zone: tzinfo, dialect: str, since: datetime, until: datetime) -> None:
        self.zone = zone
        self.dialect = dialect
        self.offsets = _offset_changes(zone, since, until)

    def _julian(self, column: Any) -> ColumnElement:
        first = self.offsets[0][1]
        if len(self.offsets) == 1:
            return func.julianday(column) + first / 86400.0
        # Before each change, the offset in force since the one before it.
        offset = case(
            *(
                (column < moment, self.offsets[i][1])
                for i, (moment, _) in enumerate(self.offsets[1:])
            ),
            else_=self.offsets[-1][1],
        )
        return func.julianday(column) + offset / 86400.0

    def month(self, column: Any) -> ColumnElement:
        """YYYY-MM of the site's local time."""
        if self.dialect == "postgresql":
            return func.to_char(func.timezone(str(self.zone), column), "YYYY-MM")
        return func.strftime("%Y-%m", self._julian(column))

    def day(self, column: Any, plus_days: int = 0) -> ColumnElement:
        """The site's local date of the timestamp, `plus_days` later."""
        if self.dialect == "postgresql":
            return cast(func.timezone(str(self.zone), column), Date) + plus_days
        return func.date(self._julian(column), f"{plus_days:+d} days")


@lru_cache(maxsize=32)
def _offset_changes(zone: tzinfo, since: datetime, until: datetime) -> list[tuple[datetime, int]]:
    # The same span on every request of a page (the queue asks from whole days): walked once.
    return offset_changes(zone, since, until)


def offset_changes(zone: tzinfo, since: datetime, until: datetime) -> list[tuple[datetime, int]]:
    """The zone's UTC offset (seconds) at `since` and at each change up to `until`: [(moment
    it takes effect, offset)], the first moment being `since`."""

    def offset(moment: datetime) -> int:
        delta = moment.astimezone(zone).utcoffset()
        return int(delta.total_seconds()) if delta else 0

    changes = [(since, offset(since))]
    day = since
    while day < until:
        following = day + timedelta(days=1)
        if offset(following) != changes[-1][1]:
            low, high = day, following  # the change lies between: bisect to the second
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if offset(middle) == changes[-1][1]:
                    low = middle
                else:
                    high = middle
            changes.append((high.replace(microsecond=0), offset(following)))
        day = following
    return changes
