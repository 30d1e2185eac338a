"""Issue 16, item 3: the jail's booking CSV. Every row checked, a bad row named by its line and
reason (all at once), the file imported whole or not at all, a re-import of the same month
replacing it with the earlier version kept; and the outcomes counting bookings and jail days
before and after referral, suppressed like every other count."""

from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from sqlmodel import col, select

from hub.audit.log import Actor
from hub.audit.models import LogEntry
from hub.equity.figures import equity_figures, months_back
from hub.equity.jail import ImportRefused, import_jail_bookings, parse_booking_file
from hub.equity.models import JailBooking, JailBookingImport
from hub.equity.outcomes import jail_figures, outcome_figures
from hub.equity.tables import JAIL_BOOKED
from hub.vocabulary import AgencyKind, ReferralKind, Role, SecurityEventTag
from tests.signing_in import csrf_of

NOW = datetime(2026, 11, 15, 20, 0, tzinfo=UTC)
TODAY = date(2026, 11, 15)
HEADER = "person_id,booked_on,jail_days\n"


def _reasons(refused: ImportRefused) -> dict[int, str]:
    return {e.line: e.reason for e in refused.errors}


def test_a_good_file_parses():
    parsed = parse_booking_file((HEADER + "7,2026-10-01,3\n8,2026-10-31,0\n").encode(), TODAY)
    assert parsed.month == "2026-10"
    assert [(r.person_id, r.booked_on, r.jail_days) for r in parsed.rows] == [
        (7, date(2026, 10, 1), 3),
        (8, date(2026, 10, 31), 0),
    ]


def test_every_bad_line_is_named_with_its_reason():
    data = HEADER + (
        "7,2026-10-01,3\n"  # line 2: good
        "x,2026-10-02,3\n"  # line 3: person
        "7,2026-10-32,3\n"  # line 4: date
        "7,2026-10-03,-1\n"  # line 5: days
        "7,2026-10-04,99999\n"  # line 6: days too many
        "7,2026-10-01,5\n"  # line 7: repeats line 2
        "7,2026-10-05\n"  # line 8: too few fields
        "7,2026-11-16,1\n"  # line 9: after today
    )
    with pytest.raises(ImportRefused) as refused:
        parse_booking_file(data.encode(), TODAY)
    reasons = _reasons(refused.value)
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9]
    assert "person_id" in reasons[3] and "booked_on" in reasons[4]
    assert "jail_days" in reasons[5] and "jail_days" in reasons[6]
    assert "line 2" in reasons[7] and "fields" in reasons[8] and "today" in reasons[9]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "header"),
        (b"person_id,booked_on\n7,2026-10-01\n", "header"),
        (HEADER.encode(), "no rows"),
        (b"\xff\xfe" + HEADER.encode(), "UTF-8"),
        ((HEADER + "7,2026-09-30,1\n7,2026-10-01,1\n").encode(), "one month"),
    ],
)
def test_whole_file_problems(data, reason):
    with pytest.raises(ImportRefused) as refused:
        parse_booking_file(data, TODAY)
    assert any(reason in e.reason for e in refused.value.errors)


def test_import_is_whole_or_nothing_and_replaces_a_month_keeping_the_old(db, factories):
    user = factories.User(role=Role.coordinator)
    one, two = factories.Person(), factories.Person()
    actor = Actor(user_id=user.id, role=user.role.value, agency_id=user.agency_id)
    good = HEADER + f"{one.id},2026-10-01,3\n{two.id},2026-10-02,4\n"
    first = import_jail_bookings(db, actor, user.id, good.encode(), NOW)
    unknown = HEADER + f"{one.id},2026-10-05,1\n{two.id + 1000},2026-10-06,1\n"
    with pytest.raises(ImportRefused) as refused:
        import_jail_bookings(db, actor, user.id, unknown.encode(), NOW)
    db.rollback()
    assert _reasons(refused.value) == {3: "person_id names no person the hub knows"}
    assert len(db.exec(select(JailBooking)).all()) == 2  # nothing of the refused file
    corrected = HEADER + f"{one.id},2026-10-01,5\n"
    second = import_jail_bookings(db, actor, user.id, corrected.encode(), NOW)
    imports = db.exec(select(JailBookingImport).order_by(col(JailBookingImport.id))).all()
    assert [(i.id, i.superseded_by_id) for i in imports] == [
        (first.id, second.id),
        (second.id, None),
    ]
    kept = db.exec(select(JailBooking).where(JailBooking.import_id == first.id)).all()
    assert sorted(b.jail_days for b in kept) == [3, 4]  # the earlier version is kept
    logged = db.exec(
        select(LogEntry).where(LogEntry.tag == SecurityEventTag.jail_bookings_imported.value)
    ).all()
    assert [e.detail["superseded"] for e in logged] == [[], [first.id]]
    assert all(e.person_id is None and "person" not in str(e.detail) for e in logged)
    db.commit()


def _referred_a_year_ago(factories, people: int, before: int, after: int):
    """`people` referrals 400 days before NOW; each person booked `before` days (jail_days 2)
    in the year before and `after` times (jail_days 1) in the year after."""
    officer = factories.User(role=Role.officer)
    provider = factories.Agency(kind=AgencyKind.case_management)
    coordinator = factories.User(role=Role.coordinator)
    referred_at = NOW - timedelta(days=400)
    rows = []
    for _ in range(people):
        person = factories.Person(race_ethnicity=[5], gender=[1])
        factories.Referral(
            person_id=person.id, referring_user=officer, kind=ReferralKind.arrest,
            case_management_agency_id=provider.id,
            referred_at=referred_at,
        )  # fmt: skip
        rows += [(person.id, referred_at.date() - timedelta(days=30 + n), 2) for n in range(before)]
        rows += [(person.id, referred_at.date() + timedelta(days=30 + n), 1) for n in range(after)]
    return coordinator, rows


def _import_by_month(db, coordinator, rows) -> None:
    actor = Actor(user_id=coordinator.id, role=coordinator.role.value)
    months = sorted({d.strftime("%Y-%m") for _, d, _ in rows})
    for month in months:
        lines = [f"{p},{d.isoformat()},{n}" for p, d, n in rows if d.strftime("%Y-%m") == month]
        import_jail_bookings(db, actor, coordinator.id, (HEADER + "\n".join(lines)).encode(), NOW)


def test_outcomes_count_bookings_and_jail_days_before_and_after_referral(db, factories):
    coordinator, rows = _referred_a_year_ago(factories, people=12, before=2, after=1)
    _import_by_month(db, coordinator, rows)
    figures = equity_figures(db, months_back(NOW, 12), NOW)
    table = figures.tables["jail_booked"]
    assert table.value(f"before: {JAIL_BOOKED}", f"after: {JAIL_BOOKED}") == 12
    outcomes = outcome_figures(db, figures.tables, NOW)
    jail = outcomes.jail
    assert (jail.bookings_before, jail.bookings_after) == (24, 12)
    assert (jail.days_before, jail.days_after) == (48, 12)
    costs = {row.item: row for row in outcomes.costs}
    assert costs["Jail days, 12 months after referral"].quantity == 12
    db.commit()


def test_a_handful_of_booked_referrals_is_suppressed_and_so_are_their_sums(db, factories):
    coordinator, rows = _referred_a_year_ago(factories, people=4, before=5, after=3)
    _import_by_month(db, coordinator, rows)
    _referred_a_year_ago(factories, people=12, before=0, after=0)  # not booked
    figures = equity_figures(db, months_back(NOW, 12), NOW)
    table = figures.tables["jail_booked"]
    assert table.value(f"before: {JAIL_BOOKED}", f"after: {JAIL_BOOKED}") is None
    # 4 people, 20 bookings and 40 days before: the sums would name the handful.
    jail = jail_figures(db, table, NOW)
    assert jail.bookings_before is None and jail.days_before is None
    assert jail.bookings_after is None and jail.days_after is None
    db.commit()


@pytest.fixture
def frozen():
    with mock.patch("hub.equity.routes.utcnow", return_value=NOW):
        yield


def test_the_coordinator_imports_on_the_page_and_a_bad_file_changes_nothing(
    db, factories, sign_in, frozen
):
    person = factories.Person()
    coordinator = sign_in(Role.coordinator)
    form = coordinator.client.get("/equity/jail-bookings")
    assert form.status_code == 200 and "person_id,booked_on,jail_days" in form.text
    bad = HEADER + f"{person.id},2026-10-01,3\n{person.id},2026-10-02,lots\n"
    response = coordinator.client.post(
        "/equity/jail-bookings",
        data={"csrf_token": csrf_of(form)},
        files={"file": ("jail.csv", bad.encode(), "text/csv")},
    )
    assert response.status_code == 422 and "Line 3:" in response.text
    assert db.exec(select(JailBookingImport)).all() == []
    db.commit()
    good = coordinator.client.post(
        "/equity/jail-bookings",
        data={"csrf_token": csrf_of(form)},
        files={"file": ("jail.csv", (HEADER + f"{person.id},2026-10-01,3\n").encode(), "text/csv")},
    )
    assert good.status_code == 200 and "Imported 2026-10: 1 rows" in good.text
    missing = coordinator.client.post("/equity/jail-bookings", data={"csrf_token": csrf_of(form)})
    assert missing.status_code == 422


def test_only_the_coordinator_imports_jail_bookings(sign_in, factories):
    for role in (Role.policy_group, Role.sergeant, Role.case_manager):
        assert sign_in(role).client.get("/equity/jail-bookings").status_code == 403
