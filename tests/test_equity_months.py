"""Issue 16: the dashboard's months are the site's calendar months (the site rules' timezone,
America/Los_Angeles in the shipped rules), not UTC's: a referral on the evening of the last day
of a month belongs to that month, on either side of a change of the clocks."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hub.equity.figures import equity_figures, months_back, offset_changes, site_zone
from hub.equity.suppression import TOTAL
from hub.vocabulary import AgencyKind, ReferralKind, Role

PACIFIC = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
# 20:00 on 31 October in Pacific daylight time, 03:00 on 1 November in UTC.
HALLOWEEN_EVENING = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
# 23:30 on 30 November in Pacific standard time, 07:30 on 1 December in UTC.
LAST_NIGHT_OF_NOVEMBER = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)


def test_a_period_starts_at_local_midnight_on_the_first():
    period = months_back(HALLOWEEN_EVENING, 1, PACIFIC)
    assert (period.first_month, period.last_month) == ("2026-10", "2026-10")
    assert period.start == datetime(2026, 10, 1, 7, 0, tzinfo=UTC)
    assert period.end == datetime(2026, 11, 1, 7, 0, tzinfo=UTC)
    assert months_back(HALLOWEEN_EVENING, 1).first_month == "2026-11"  # UTC's month


def test_the_clocks_change_once_in_november():
    since = datetime(2026, 10, 1, tzinfo=UTC)
    assert offset_changes(PACIFIC, since, since + timedelta(days=61)) == [
        (since, -7 * 3600),
        (datetime(2026, 11, 1, 9, 0, tzinfo=UTC), -8 * 3600),  # 02:00 PDT becomes 01:00 PST
    ]
    assert offset_changes(UTC, since, since + timedelta(days=400)) == [(since, 0)]


def refer(factories, moments: list[datetime], withdrawn: int = 0) -> None:
    """An arrest referral per moment, each of a new person; the first `withdrawn` of them
    withdrawn by their officer two hours later, as made in error."""
    officer = factories.User(role=Role.officer)
    provider = factories.Agency(kind=AgencyKind.case_management)
    for n, moment in enumerate(moments):
        factories.Referral(
            person_id=factories.Person().id,
            referring_user=officer,
            case_management_agency_id=provider.id,
            kind=ReferralKind.arrest,
            referred_at=moment,
            withdrawn_at=moment + timedelta(hours=2) if n < withdrawn else None,
        )


def test_referrals_count_in_the_sites_month(db, factories):
    assert site_zone(db) == PACIFIC
    db.commit()
    refer(factories, [HALLOWEEN_EVENING] * 11 + [LAST_NIGHT_OF_NOVEMBER] * 12)
    figures = equity_figures(db, months_back(NOW, 3, PACIFIC), NOW)
    by_month = figures.tables["month_kind"]
    assert by_month.value("2026-10", TOTAL) == 11
    assert by_month.value("2026-11", TOTAL) == 12
    assert by_month.value("2026-12", TOTAL) is None  # no such row: nothing in December yet
    assert figures.tables["status_quarter"].value("2026 Q4", TOTAL) == 23
    db.commit()


def test_a_withdrawn_referral_is_not_counted(db, factories):
    refer(factories, [HALLOWEEN_EVENING] * 13, withdrawn=2)
    figures = equity_figures(db, months_back(NOW, 3, PACIFIC), NOW)
    assert figures.tables["month_kind"].value("2026-10", TOTAL) == 11
    db.commit()
