"""The prosecutor's queue and decision (issue 15, item 5): filters by deputy, deadline state and
outcome, sorts, counts per state; the intake due date shown where only the intake status is
withheld; the decide form with no outcome checked and only the chosen outcome's reasons; the
deputy who handles a matter, assigned and reassigned."""

import re
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from sqlmodel import col, select

from hub.audit.models import LogEntry
from hub.charging.checks import ChargingError
from hub.charging.deciding import record_decision
from hub.charging.deputies import assign_deputy
from hub.charging.models import ChargingDecision, MatterDeputy
from hub.referrals.opening import intake_due_on
from hub.vocabulary import DisclosureTag, SecurityEventTag
from hub.web.paging import PAGE_SIZE
from tests.fixtures.markup import first_group
from tests.referral_pages import consent_2_35
from tests.signing_in import logged

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
ROW = re.compile(r'<tr data-matter="(\d+)">(.*?)</tr>', re.S)


@pytest.fixture
def frozen():
    """The queue's today: NOW."""
    with mock.patch("hub.charging.queue_routes.utcnow", return_value=NOW):
        yield NOW


@pytest.fixture
def queue(world, db, frozen):
    """Four referrals at the county prosecutor's: a missed and a running clock, each with and
    without the client's 2.35 consent; one more asked for more information."""
    long_ago = NOW - timedelta(days=40)
    old = [world.arrest(now=long_ago, arrested_at=long_ago - timedelta(hours=1)) for _ in range(2)]
    new = [world.arrest(now=NOW - timedelta(days=2)) for _ in range(3)]
    matters = {
        "missed_seen": old[0][1],
        "missed_withheld": old[1][1],
        "pending_seen": new[0][1],
        "pending_withheld": new[1][1],
        "asked": new[2][1],
    }
    office = world.agencies["county_prosecutor"].id
    for name in ("missed_seen", "pending_seen"):
        consent_2_35(db, world.viewer("case_manager"), matters[name].person_id, office)
    record_decision(
        db,
        world.viewer("county_prosecutor"),
        matters["asked"].id,
        "more_information",
        ["awaiting-lab"],
        None,
        [],
        world.actor("county_prosecutor"),
        rules=world.rules,
    )
    world.referrals = {name: r for name, r in zip(matters, [*old, *new], strict=True)}
    return matters


def rows(page):
    return {int(m): body for m, body in ROW.findall(page.text)}


def counts(page):
    return {
        state: int(n)
        for state, n in re.findall(r'data-state="([a-z_]+)">[^<]*<strong>(\d+)</strong>', page.text)
    }


def test_counts_filters_and_the_due_date_where_only_intake_status_is_withheld(
    world, queue, sign_in, db
):
    prosecutor = sign_in(user=world.users["county_prosecutor"])
    page = prosecutor.client.get("/charging")
    assert page.status_code == 200
    # The counts come in a request of their own (htmx), or with the page without JavaScript.
    assert 'hx-get="/charging/counts"' in page.text and counts(page) == {}
    fragment = prosecutor.client.get("/charging/counts", headers={"HX-Request": "true"})
    assert counts(fragment) == counts(prosecutor.client.get("/charging?counts=true"))
    logged = db.exec(
        select(LogEntry).where(LogEntry.tag == DisclosureTag.charging_queue_counts_read.value)
    ).all()
    db.commit()
    assert len(logged) == 2 and all(e.person_id is None for e in logged)
    assert counts(fragment) == {
        "missed": 1,
        "near": 0,
        "pending": 1,
        "met": 0,
        "new_arrest": 0,
        "not_shared": 3,
    }
    shown = rows(page)
    assert set(shown) == {m.id for m in queue.values()}
    withheld = shown[queue["pending_withheld"].id]
    assert "not shared: no 42 CFR 2.35 consent" in withheld
    due = intake_due_on(world.referrals["pending_withheld"][0].referred_at, world.rules)
    assert due.isoformat() in withheld  # referral data: shown though the clock is not
    assert "withheld (engagement)" not in page.text

    for query, expected in (
        ("state=missed", {"missed_seen"}),
        ("state=not_shared", {"missed_withheld", "pending_withheld", "asked"}),
        ("outcome=more_information", {"asked"}),
        ("outcome=awaiting&state=pending", {"pending_seen"}),
        ("state=&outcome=&deputy=", set(queue)),  # the form's "any"
    ):
        found = rows(prosecutor.client.get(f"/charging?{query}"))
        assert set(found) == {queue[n].id for n in expected}, query
    # Sorts: the soonest due date first; the oldest arrest first.
    by_due = list(rows(prosecutor.client.get("/charging?sort=due")))
    assert by_due[:2] == sorted([queue["missed_seen"].id, queue["missed_withheld"].id])
    by_arrest = list(rows(prosecutor.client.get("/charging?sort=arrest")))
    assert set(by_arrest[:2]) == {queue["missed_seen"].id, queue["missed_withheld"].id}
    # Urgency (the default): the missed deadline the office may see, then the ripe ones.
    assert next(iter(shown)) == queue["missed_seen"].id


@pytest.mark.parametrize(
    "query", ["deputy=0", "deputy=2147483648", "state=gone", "outcome=x", "sort=name", "page="]
)
def test_bad_filters_are_refused_and_read_nothing(world, queue, sign_in, db, query):
    prosecutor = sign_in(user=world.users["county_prosecutor"])
    before = db.exec(select(LogEntry.seq).order_by(col(LogEntry.seq).desc())).first()
    db.commit()
    assert prosecutor.client.get(f"/charging?{query}").status_code == 422
    after = db.exec(select(LogEntry).where(col(LogEntry.seq) > before)).all()
    db.commit()
    assert all(e.kind != "disclosure" for e in after)


def test_a_deputy_is_assigned_and_reassigned_and_the_filter_follows(world, queue, sign_in, db):
    prosecutor = sign_in(user=world.users["county_prosecutor"])
    deputy, other = world.users["county_prosecutor2"], world.users["county_prosecutor"]
    matter = queue["pending_withheld"]
    response = prosecutor.post(
        f"/charging/matters/{matter.id}/deputy",
        data={"deputy_id": str(deputy.id)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert set(rows(prosecutor.client.get(f"/charging?deputy={deputy.id}"))) == {matter.id}
    unassigned = rows(prosecutor.client.get("/charging?unassigned=true"))
    assert matter.id not in unassigned and len(unassigned) == len(queue) - 1
    assert deputy.display_name in rows(prosecutor.client.get("/charging"))[matter.id]
    # Reassigned: the first assignment ends, the history stays.
    assign_deputy(
        db, world.viewer("county_prosecutor"), matter.id, other.id, world.actor("county_prosecutor")
    )
    history = db.exec(select(MatterDeputy).where(MatterDeputy.matter_id == matter.id)).all()
    assert [(h.deputy_id, h.ended_at is None) for h in history] == [
        (deputy.id, False),
        (other.id, True),
    ]
    events = db.exec(
        select(LogEntry).where(LogEntry.tag == SecurityEventTag.matter_deputy_assigned.value)
    ).all()
    db.commit()  # SQLite: release the read before the app writes
    assert [e.detail["previous_deputy_id"] for e in events] == [None, deputy.id]
    assert rows(prosecutor.client.get(f"/charging?deputy={deputy.id}")) == {}
    # Only a prosecutor of the office, of a matter of the office.
    with pytest.raises(ChargingError, match="active prosecutor of your office"):
        assign_deputy(
            db,
            world.viewer("county_prosecutor"),
            matter.id,
            world.users["city_prosecutor"].id,
            world.actor("county_prosecutor"),
        )
    db.rollback()
    city = sign_in(user=world.users["city_prosecutor"])
    data = {"deputy_id": str(world.users["city_prosecutor"].id)}
    path = f"/charging/matters/{matter.id}/deputy"
    db.commit()  # SQLite: release the read before the app writes
    response = city.post(path, data=data)
    assert response.status_code == 404


def test_the_decide_form_checks_no_outcome_and_offers_only_its_reasons(world, queue, sign_in, db):
    prosecutor = sign_in(user=world.users["county_prosecutor"])
    matter = queue["pending_withheld"]
    form = prosecutor.client.get(f"/charging/matters/{matter.id}/decide").text
    assert " checked" not in first_group(r"<legend>Decision</legend>(.*?)</fieldset>", form, re.S)
    # The matter's facts beside the form, the due date among them.
    due = intake_due_on(world.referrals["pending_withheld"][0].referred_at, world.rules)
    assert matter.offense_tracking_number in form and due.isoformat() in form
    assert "Choose a decision first" in form
    file_reasons = prosecutor.client.get(
        "/charging/reasons?outcome=file", headers={"HX-Request": "true"}
    ).text
    assert 'value="harm-to-victim"' in file_reasons
    assert 'value="insufficient-evidence"' not in file_reasons
    decline_reasons = prosecutor.client.get(
        "/charging/reasons?outcome=decline", headers={"HX-Request": "true"}
    ).text
    assert 'value="insufficient-evidence"' in decline_reasons
    assert 'value="harm-to-victim"' not in decline_reasons
    # The server refuses a reason of another outcome, and records nothing.
    refused = prosecutor.post(
        f"/charging/matters/{matter.id}/decisions",
        data={"outcome": "file", "reason_codes": ["insufficient-evidence"]},
    )
    assert refused.status_code == 400 and "does not support" in refused.text
    # Shown again with the chosen outcome, and only its reasons.
    chosen = first_group(r'<fieldset id="reasons">(.*?)</fieldset>', refused.text, re.S)
    assert 'value="harm-to-victim"' in chosen and "insufficient-evidence" not in chosen
    decided = db.exec(select(ChargingDecision).where(ChargingDecision.matter_id == matter.id))
    assert decided.all() == []
    db.commit()
    entries = db.exec(
        select(LogEntry).where(LogEntry.tag == DisclosureTag.charging_matter_read.value)
    ).all()
    assert entries and all("referral" in e.categories for e in entries)


def test_a_due_date_moved_from_the_referral_date_is_the_clocks_and_stays_withheld(
    world, queue, sign_in, db
):
    referral = world.referrals["pending_withheld"][0]
    moved = intake_due_on(referral.referred_at, world.rules) + timedelta(days=5)
    referral.intake_due_on = moved
    db.add(referral)
    db.commit()
    prosecutor = sign_in(user=world.users["county_prosecutor"])
    shown = rows(prosecutor.client.get("/charging"))
    assert moved.isoformat() not in shown[queue["pending_withheld"].id]
    seen = world.referrals["pending_seen"][0]
    assert seen.intake_due_on.isoformat() in shown[queue["pending_seen"].id]


def test_the_api_queue_shows_the_due_date_with_the_referral(world, queue, api, db):
    answer = api(world.users["county_prosecutor"]).get("/api/v1/charging/queue").json()
    by_matter = {q["matter_id"]: q for q in answer}
    withheld = by_matter[queue["pending_withheld"].id]
    assert withheld["deadline_status"] is None  # engagement: no 2.35 consent
    due = intake_due_on(world.referrals["pending_withheld"][0].referred_at, world.rules)
    assert withheld["intake_due_on"] == due.isoformat()


def test_the_api_queue_gives_the_rows_of_the_page_in_its_order(world, queue, sign_in, api, db):
    """Both cut the queue with queue_sql.cut_office_queue: the same rows, page by page, in the
    same order (a missed clock the office may see first, a withheld one placed as ripe)."""
    office = world.agencies["county_prosecutor"].id
    for n in range(48):  # a second page, clocks running, missed and withheld
        arrested = NOW - timedelta(days=n % 20 + 1, hours=n)
        _, matter = world.arrest(now=arrested + timedelta(hours=1), arrested_at=arrested)
        if n % 3 == 0:
            consent_2_35(db, world.viewer("case_manager"), matter.person_id, office)
    prosecutor = sign_in(user=world.users["county_prosecutor"])
    client = api(world.users["county_prosecutor"])
    with mock.patch("hub.charging.routes.utcnow", return_value=NOW):
        pages = [rows(prosecutor.client.get(f"/charging?page={n}")) for n in (1, 2)]
        answers = [client.get(f"/api/v1/charging/queue?page={n}").json() for n in (1, 2)]
    assert [len(p) for p in pages] == [PAGE_SIZE, 3]
    assert [[q["matter_id"] for q in a] for a in answers] == [list(p) for p in pages]


def test_the_office_filter_names_the_prosecutors_own_office_and_no_other(world, queue, sign_in, db):
    prosecutor = sign_in(user=world.users["county_prosecutor"])
    own, other = world.agencies["county_prosecutor"], world.agencies["city_attorney"]
    page = prosecutor.client.get(f"/charging?office={own.id}&state=not_shared")
    assert page.status_code == 200
    assert f'<option value="{own.id}" selected>{own.name}</option>' in page.text
    expected = {queue[n].id for n in ("missed_withheld", "pending_withheld", "asked")}
    assert set(rows(page)) == expected
    assert f"office={own.id}" in page.text  # the counts and the pager keep the filter
    # Another office's queue answers as none, and the attempt is a logged refusal.
    for path in (f"/charging?office={other.id}", f"/charging/counts?office={other.id}"):
        refused = prosecutor.client.get(path)
        assert refused.status_code == 404 and "matter" not in refused.text.lower()
    assert len(logged(db, SecurityEventTag.access_denied, office=other.id)) == 2


def test_a_policy_sql_cannot_state_orders_filters_and_counts_the_same(world, queue, sign_in):
    """Where hub.disclosure.grants_sql cannot state the policy in force, the queue asks the
    policy's Python decision for as few persons as it needs: the same rows, order and counts."""
    prosecutor = sign_in(user=world.users["county_prosecutor"])
    paths = ["/charging", "/charging?state=not_shared", "/charging?sort=due&state=missed"]

    def seen():
        pages = [list(rows(prosecutor.client.get(path))) for path in paths]
        fragment = prosecutor.client.get("/charging/counts", headers={"HX-Request": "true"})
        return pages, counts(fragment)

    in_sql = seen()
    with mock.patch("hub.charging.queue_sql.clause_in_force", return_value=None):
        assert seen() == in_sql
    assert in_sql[1]["not_shared"] == 3 and in_sql[0][1]
