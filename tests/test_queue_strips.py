"""Issue 17, item 9: each intake-queue row draws its clock on one scale shared by every row
(today in the middle), only where the policy shows the clock."""

import re
from datetime import UTC, date, datetime, timedelta

from hub.charts import STRIP_DAYS, deadline_strip, safe_svg
from hub.disclosure.record_view import WithheldCategory
from hub.referrals.intake_list import IntakeItem
from hub.referrals.pages import IntakeRow
from hub.vocabulary import Category, DeadlineStatus, ReferralKind, WithheldReason

TODAY = date(2026, 11, 20)


def diamond_x(svg: str) -> float:
    diamond = re.search(r'<path d="M([\d.]+) 2 ', svg)
    assert diamond is not None
    return float(diamond[1])


def test_one_scale_for_every_row_with_far_days_at_its_edges():
    middle = diamond_x(deadline_strip(TODAY, TODAY, "near", screening=None, intake=None))
    later = diamond_x(
        deadline_strip(TODAY + timedelta(10), TODAY, "pending", screening=None, intake=None)
    )
    edge = diamond_x(
        deadline_strip(TODAY - timedelta(400), TODAY, "missed", screening=None, intake=None)
    )
    assert edge < middle < later
    assert edge == diamond_x(
        deadline_strip(TODAY - timedelta(STRIP_DAYS), TODAY, "missed", screening=None, intake=None)
    )
    done = deadline_strip(TODAY, TODAY, "met", screening=TODAY - timedelta(3), intake=TODAY)
    assert done.count("<circle") == 2 and 'fill="#1d6b2f"' in done
    assert safe_svg(done)  # the page's CSP: no style, no script


def row(shows_clock: bool) -> IntakeRow:
    item = IntakeItem(
        referral_id=1,
        person_id=1,
        kind=ReferralKind.arrest,
        referred_at=datetime(2026, 11, 2, tzinfo=UTC),
        intake_due_on=TODAY + timedelta(12),
        screening_done_at=datetime(2026, 11, 10, 20, tzinfo=UTC),
        intake_done_at=None,
        deadline_status=DeadlineStatus.pending,
    )
    who = WithheldCategory(category=Category.identity, reason=WithheldReason.no_consent)
    return IntakeRow(
        item=item, identity=who, shows_referral=True, shows_clock=shows_clock, today=TODAY
    )


def test_a_row_draws_its_clock_only_where_the_policy_shows_it():
    strip = row(True).strip
    assert strip is not None and "<circle" in strip
    assert row(False).strip is None


def test_the_intake_queue_draws_a_clock_per_row(world, sign_in):
    world.arrest()
    page = sign_in(user=world.users["case_manager"]).client.get("/intake")
    assert page.status_code == 200
    rows = page.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0].count("<tr")
    assert rows >= 1 and page.text.count('<svg class="strip"') == rows


def test_the_charging_queue_draws_the_due_date_where_it_is_shown(world, sign_in):
    _, matter = world.arrest()
    world.arrest()
    office = next(
        name
        for name in ("county_prosecutor", "city_prosecutor")
        if world.users[name].agency_id == matter.prosecuting_agency_id
    )
    page = sign_in(user=world.users[office]).client.get("/charging")
    assert page.status_code == 200
    body = page.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = body.split("<tr")[1:]
    assert rows and '<svg class="strip"' in body
    for row in rows:
        cells = row.split("<td")
        due, clock = cells[6], cells[7]
        # A clock exactly where the due date is shown (it is referral or engagement data).
        assert ('<svg class="strip"' in clock) == ("—" not in due.split(">", 1)[1][:3])
