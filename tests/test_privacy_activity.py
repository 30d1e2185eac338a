"""The console's pictures (issue 17, item 9): log entries per site-local day (disclosures,
withheld, security events) and open flags by kind, counted in SQL; on the page as safe SVG,
each followed by its data table, with counts only."""

import re
from datetime import date
from unittest import mock

import pytest

from hub.privacy.activity import console_activity, log_activity
from hub.privacy.flags.listing import open_flags_by_rule
from hub.privacy.models import ReviewFlag
from hub.vocabulary import FlagRule, FlagStatus, Role, SecurityEventTag
from tests.chart_support import charts_with_their_tables
from tests.fixtures.security_headers import assert_security_headers
from tests.privacy_support import SITE, local, record_read, security_event

NOW = local(2026, 11, 3, 12)  # the clocks went back on Sunday 1 November in the site's zone


@pytest.fixture
def entries(db, factories):
    cm = factories.User(role=Role.case_manager, display_name="Casey Manager")
    person = factories.Person(first_name="Zebulon", last_name="Quarrington")
    # Late on 31 October local time is already 1 November in UTC: it counts on the 31st.
    record_read(db, cm, person.id, {"identity": "role"}, at=local(2026, 10, 31, 23, 30))
    record_read(db, cm, person.id, {}, at=local(2026, 11, 1, 0, 30))  # withheld in full
    record_read(db, cm, person.id, {"identity": "role"}, at=local(2026, 11, 1, 23, 59))
    security_event(db, SecurityEventTag.sign_in_failure, user=cm, at=local(2026, 11, 2, 8))
    record_read(db, cm, person.id, {"identity": "role"}, at=local(2026, 11, 3, 9))
    return {"cm": cm, "person": person}


def test_entries_count_on_their_site_local_day_by_kind(db, entries):
    days = {d.day: d for d in log_activity(db, date(2026, 11, 3), SITE, days=5)}
    assert list(days) == [date(2026, 10, 30 + n) for n in range(2)] + [
        date(2026, 11, n) for n in range(1, 4)
    ]
    assert (days[date(2026, 10, 30)].total, days[date(2026, 10, 31)].disclosures) == (0, 1)
    first = days[date(2026, 11, 1)]  # a 25-hour day: both of its entries count on it
    assert (first.disclosures, first.withheld, first.security) == (1, 1, 0)
    assert days[date(2026, 11, 2)].security == 1 and days[date(2026, 11, 2)].total == 1
    assert days[date(2026, 11, 3)].disclosures == 1


def test_the_chart_holds_the_last_thirty_full_days_and_today_apart(db, entries):
    activity = console_activity(db, now=NOW)
    assert len(activity.days) == 30
    assert activity.days[-1].day == date(2026, 11, 2) and activity.days[0].day == date(2026, 10, 4)
    assert activity.today.day == date(2026, 11, 3) and activity.today.disclosures == 1
    assert sum(d.total for d in activity.days) == 4


def test_open_flags_are_counted_by_rule(db, factories):
    for n, (rule, status) in enumerate(
        [
            (FlagRule.after_hours, FlagStatus.open),
            (FlagRule.after_hours, FlagStatus.open),
            (FlagRule.lockout, FlagStatus.open),
            (FlagRule.lockout, FlagStatus.reviewed),
        ]
    ):
        db.add(ReviewFlag(rule=rule, key=f"{rule}:{n}", reason="r", status=status))
    db.commit()
    counts = dict(open_flags_by_rule(db))
    assert set(counts) == set(FlagRule)
    assert counts[FlagRule.after_hours] == 2 and counts[FlagRule.lockout] == 1
    assert counts[FlagRule.break_glass] == 0


def test_the_console_shows_both_charts_with_their_data_and_nothing_personal(db, sign_in, entries):
    officer = sign_in(Role.privacy_officer)
    with mock.patch("hub.privacy.activity.utcnow", return_value=NOW):
        response = officer.client.get("/privacy")
    page = response.text
    activity = page.split('<section aria-labelledby="activity-heading">')[1].split("</section>")[0]
    assert charts_with_their_tables(activity) == ["log_activity", "open_flags"]
    rows = dict(re.findall(r'<tr><th scope="row">([\d-]+)</th>(.*?)</tr>', activity))
    assert rows["2026-11-01"] == "<td>1</td><td>1</td><td>0</td><td>2</td>"
    assert "Today so far (2026-11-03): 1 disclosures" in activity
    # Counts only: no client, no user, no record number (colours aside: "#1b5e8c").
    for personal in ("Zebulon", "Quarrington", "Casey"):
        assert personal not in activity
    assert not re.search(rf"#{entries['person'].id}(?![0-9a-f])", activity)
    assert f"/clients/{entries['person'].id}" not in activity
    assert_security_headers(response)  # the CSP stays strict with the charts inline


def test_an_empty_log_and_days_after_the_last_entry_count_nothing(db, factories):
    assert all(d.total == 0 for d in log_activity(db, date(2026, 11, 3), SITE, days=3))
    cm = factories.User(role=Role.case_manager)
    record_read(db, cm, 1, {"identity": "role"}, at=local(2026, 11, 1, 9))
    days = log_activity(db, date(2026, 11, 3), SITE, days=3)
    assert [d.total for d in days] == [1, 0, 0]
