"""The deadline timeline on the client record (issue 17, item 9): the newest referral's intake
clock as days on a line, with today.

Drawn only from what the policy layer already disclosed to this viewer on the page (the record
view): the clock is engagement, so without engagement there is no timeline; the referral date
is the referral category's, so without it the line starts at the clock's first day."""

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from hub.charts import Chart, timeline
from hub.disclosure.record_view import DisclosedRecord, Engagement, Referrals
from hub.vocabulary import Category

TITLE = "Intake clock"


@dataclass(frozen=True)
class DeadlineTimeline:
    marks: tuple[tuple[str, date], ...]  # in the order of their days
    today: date
    chart: Chart


def deadline_timeline(
    record: DisclosedRecord, now: datetime, zone: tzinfo
) -> DeadlineTimeline | None:
    """The timeline of the newest referral's clock, in the site's days; None when the clock is
    withheld from this viewer (or there is none)."""
    engagement = record.section(Category.engagement)
    if not isinstance(engagement, Engagement) or not engagement.intake:
        return None
    clock = engagement.intake[-1]  # the record lists referrals oldest first
    marks: list[tuple[str, date]] = []
    referrals = record.section(Category.referral)
    # Both sections come from the same referrals in the same order (hub.disclosure.record).
    if isinstance(referrals, Referrals) and len(referrals.entries) == len(engagement.intake):
        marks.append(("referred", referrals.entries[-1].referred_at.astimezone(zone).date()))
    marks.append(("intake due", clock.intake_due_on))
    if clock.screening_done_at is not None:
        marks.append(("screening done", clock.screening_done_at.astimezone(zone).date()))
    if clock.intake_done_at is not None:
        marks.append(("intake done", clock.intake_done_at.astimezone(zone).date()))
    marks.sort(key=lambda mark: mark[1])
    today = now.astimezone(zone).date()
    return DeadlineTimeline(marks=tuple(marks), today=today, chart=timeline(TITLE, marks, today))
