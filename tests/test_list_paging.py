"""The work lists are paged: 50 rows, most urgent first, a "next 50" link for the rest, and
each page discloses (and logs) only the persons it shows. A bad page number is a 422 that
reads and logs nothing."""

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from hub.audit.models import LogEntry
from hub.charging.deciding import record_decision
from hub.charging.queue_order import queue_keys, urgency
from hub.clients.models import ClientAssignment
from hub.db import clock_at, ident
from hub.vocabulary import DisclosureTag
from hub.web.paging import PAGE_SIZE
from tests.referral_pages import consent_2_35

BAD_PAGES = ["0", "-1", "abc", "1.5", "100001", ""]
# A Wednesday, 11:00 at the site: every list is built and read on this clock, never the wall's.
NOW = datetime(2026, 11, 18, 19, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def set_clock():
    with clock_at(NOW):
        yield


def list_entries(db, user):
    """The list-read disclosure entries this user's requests wrote, oldest first."""
    entries = db.exec(
        select(LogEntry)
        .where(
            LogEntry.kind == "disclosure",
            LogEntry.tag == DisclosureTag.client_list_read.value,
            LogEntry.actor_user_id == user.id,
        )
        .order_by(col(LogEntry.seq))
    ).all()
    db.commit()  # SQLite: release the read transaction before the app writes again
    return entries


def log_size(db):
    count = len(db.exec(select(LogEntry.seq)).all())
    db.commit()
    return count


def linked(html, pattern):
    return [int(m) for m in re.findall(pattern, html)]


def assert_bad_pages_refused(client, db, path):
    before = log_size(db)
    for bad in BAD_PAGES:
        response = client.get(f"{path}?page={bad}")
        assert response.status_code == 422, (bad, response.text)
        assert "page" in response.text
    assert log_size(db) == before


# --- the prosecutor's queue -------------------------------------------------------------------


def _arrests(world, count):
    now = NOW
    return [world.arrest(arrested_at=now - timedelta(days=i % 7, hours=1))[1] for i in range(count)]


@dataclass(frozen=True)
class Decided:
    decision_id: int
    person_id: int


def _decide(world, matter, outcome, reasons):
    decision = record_decision(
        world.db,
        world.viewer("county_prosecutor"),
        matter.id,
        outcome,
        reasons,
        None,
        [],
        world.actor("county_prosecutor"),
        rules=world.rules,
    )
    return Decided(ident(decision.id), ident(matter.person_id))


def test_the_charging_queue_pages_by_urgency_and_logs_only_the_page(world, sign_in, db):
    matters = _arrests(world, PAGE_SIZE + 7)
    # Decided: leaves the queue. More information asked: stays.
    decided, asked = matters[0], matters[1]
    _decide(world, decided, "decline", ["insufficient-evidence"])
    _decide(world, asked, "more_information", ["awaiting-lab"])
    waiting = [m for m in matters if m.id != decided.id]
    # No 2.35 consent: every clock is withheld, so the oldest arrest comes first.
    expected = sorted(waiting, key=lambda m: (m.arrested_at.date(), m.id))
    by_id = {m.id: m for m in waiting}
    prosecutor_user = world.users["county_prosecutor"]
    prosecutor = sign_in(user=prosecutor_user)

    first = prosecutor.client.get("/charging")
    assert first.status_code == 200
    shown = linked(first.text, r'href="/charging/matters/(\d+)"')
    assert len(shown) == PAGE_SIZE
    assert shown == [m.id for m in expected[:PAGE_SIZE]]
    assert f"of {len(waiting)}" in first.text
    (entry,) = list_entries(db, prosecutor_user)
    assert entry.detail["person_ids"] == sorted({by_id[i].person_id for i in shown})

    assert 'href="/charging?page=2"' in first.text
    second = prosecutor.client.get("/charging?page=2")
    rest = linked(second.text, r'href="/charging/matters/(\d+)"')
    assert rest == [m.id for m in expected[PAGE_SIZE:]]
    assert "/charging?page=3" not in second.text and 'href="/charging?page=1"' in second.text
    entries = list_entries(db, prosecutor_user)
    assert len(entries) == 2
    assert entries[1].detail["person_ids"] == sorted({by_id[i].person_id for i in rest})

    assert_bad_pages_refused(prosecutor.client, db, "/charging")


def test_the_charging_queue_api_pages_too(world, api, db):
    matters = _arrests(world, PAGE_SIZE + 3)
    prosecutor = api(world.users["county_prosecutor"])
    first = prosecutor.get("/api/v1/charging/queue")
    assert len(first.json()) == PAGE_SIZE
    assert first.headers["link"] == '</api/v1/charging/queue?page=2>; rel="next"'
    second = prosecutor.get("/api/v1/charging/queue?page=2")
    assert "link" not in second.headers
    ids = [q["matter_id"] for q in first.json() + second.json()]
    assert sorted(ids) == sorted(m.id for m in matters)
    assert prosecutor.get("/api/v1/charging/queue?page=0").status_code == 422


def test_the_queue_orders_a_withheld_clock_as_met_before_it_pages(world, sign_in, db):
    """A missed deadline goes first only where the prosecutor may see the clock (2.35 consent);
    a withheld one is ordered as if met, among the ripe matters by oldest arrest."""
    now = NOW
    long_ago = now - timedelta(days=40)
    missed_seen, missed_withheld = (
        world.arrest(now=long_ago, arrested_at=long_ago - timedelta(hours=1))[1] for _ in range(2)
    )
    pending_seen, pending_withheld = (world.arrest()[1] for _ in range(2))
    case_manager = world.viewer("case_manager")
    office = world.agencies["county_prosecutor"].id
    for matter in (missed_seen, pending_seen):
        consent_2_35(db, case_manager, matter.person_id, office)
    prosecutor = sign_in(user=world.users["county_prosecutor"])
    page = prosecutor.client.get("/charging").text
    assert linked(page, r'href="/charging/matters/(\d+)"') == [
        missed_seen.id,
        missed_withheld.id,
        pending_withheld.id,
        pending_seen.id,
    ]
    assert "next 50" not in page


def test_a_queue_with_clocks_withheld_from_some_persons_pages_like_the_whole_order(
    world, sign_in, db
):
    """The queue decides persons only as far as a page needs (queue_order.queue_page_keys); each
    page and the count are still those of the whole queue ordered by the policy's answer for
    every person: missed clocks the prosecutor may see first, withheld ones among the ripe."""
    now = NOW
    long_ago = now - timedelta(days=40)
    missed = [
        world.arrest(now=long_ago, arrested_at=long_ago - timedelta(hours=1, minutes=i))[1]
        for i in range(PAGE_SIZE // 2 + 5)
    ]
    pending = [world.arrest()[1] for _ in range(PAGE_SIZE // 2 + 5)]
    case_manager = world.viewer("case_manager")
    office = world.agencies["county_prosecutor"].id
    seen = {m.person_id for m in (missed + pending)[::3]}
    for person_id in sorted(seen):
        consent_2_35(db, case_manager, person_id, office)
    today = NOW.astimezone(world.rules.tz).date()
    keys = queue_keys(db, world.viewer("county_prosecutor"), today, rules=world.rules)
    db.commit()
    ripe = urgency(None)
    expected = [
        k.matter_id
        for k in sorted(
            keys,
            key=lambda k: (
                urgency(k.deadline_status) if k.person_id in seen else ripe,
                -k.days_since_arrest,
                k.matter_id,
            ),
        )
    ]
    assert len(expected) == len(missed) + len(pending)
    assert expected[0] in {m.id for m in missed if m.person_id in seen}
    prosecutor_user = world.users["county_prosecutor"]
    prosecutor = sign_in(user=prosecutor_user)
    first = prosecutor.client.get("/charging").text
    assert linked(first, r'href="/charging/matters/(\d+)"') == expected[:PAGE_SIZE]
    assert f"of {len(expected)}" in first
    second = prosecutor.client.get("/charging?page=2").text
    assert linked(second, r'href="/charging/matters/(\d+)"') == expected[PAGE_SIZE:]
    assert f"of {len(expected)}" in second
    by_id = {m.id: m.person_id for m in missed + pending}
    entries = list_entries(db, prosecutor_user)
    assert [e.detail["person_ids"] for e in entries] == [
        sorted({by_id[i] for i in expected[:PAGE_SIZE]}),
        sorted({by_id[i] for i in expected[PAGE_SIZE:]}),
    ]


# --- the case manager's intake queue ----------------------------------------------------------


def test_the_intake_queue_pages_missed_first_and_logs_only_the_page(world, sign_in, db):
    now = NOW
    missed = [
        world.arrest(now=now - timedelta(days=40 + i), arrested_at=now - timedelta(days=40 + i))[0]
        for i in range(5)
    ]
    pending = [
        world.arrest(now=now - timedelta(days=i % 10), arrested_at=now - timedelta(days=i % 10))[0]
        for i in range(PAGE_SIZE + 2)
    ]
    # Missed first (nearest due date, i.e. the longest overdue, first), then pending likewise.
    expected = sorted(missed, key=lambda r: (r.intake_due_on, r.id)) + sorted(
        pending, key=lambda r: (r.intake_due_on, r.id)
    )
    person_of = {r.id: r.person_id for r in expected}
    user = world.users["case_manager"]
    case_manager = sign_in(user=user)

    first = case_manager.client.get("/intake")
    assert first.status_code == 200
    shown = linked(first.text, r'href="/referrals/(\d+)"')
    assert shown == [r.id for r in expected[:PAGE_SIZE]]
    assert first.text.count("deadline-missed") == len(missed)
    (entry,) = list_entries(db, user)
    assert entry.detail["person_ids"] == sorted(person_of[i] for i in shown)

    assert 'href="/intake?page=2"' in first.text
    second = case_manager.client.get("/intake?page=2")
    rest = linked(second.text, r'href="/referrals/(\d+)"')
    assert rest == [r.id for r in expected[PAGE_SIZE:]]
    assert "/intake?page=3" not in second.text
    assert list_entries(db, user)[-1].detail["person_ids"] == sorted(person_of[i] for i in rest)


def test_an_intake_page_is_the_same_window_of_the_whole_queue_whatever_its_mix(world, db):
    """The database cuts open referrals at offset + limit; a completed one joins by status (a
    late one among the missed). Every window equals the same window of the whole queue."""
    from hub.accounts.sessions import viewer_for
    from hub.referrals import intake_list
    from hub.referrals.models import Referral

    # Noon at the site (Los Angeles): the same day in UTC and at the site, whatever the hour
    # the suite runs at.
    now = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
    ages = [45, 44, 40, 35, 33, 31, 20, 12, 9, 5, 3, 2, 1, 0]
    referrals = [world.arrest(now=now - timedelta(days=d), arrested_at=now - timedelta(days=d))[0]
                 for d in ages]  # fmt: skip
    # Completed in the last fortnight: late (after the due date) or in time.
    late, in_time = referrals[2], referrals[9]
    assert (
        late.intake_due_on + timedelta(days=3)
        < now.date() - timedelta(days=1)
        < (in_time.intake_due_on)
    )
    finished_on = {late.id: late.intake_due_on + timedelta(days=3),
                   in_time.id: now.date() - timedelta(days=1)}  # fmt: skip
    for referral in (late, in_time):
        row = db.get(Referral, referral.id)
        at = datetime.combine(finished_on[referral.id], datetime.min.time(), UTC) + timedelta(
            hours=12
        )
        row.screening_done_at, row.intake_done_at = at - timedelta(hours=1), at
        db.add(row)
    db.commit()

    viewer = viewer_for(db, world.users["case_manager"])
    today = now.date()
    # The 45-day-old referral's deadline passed more than a fortnight ago: the "older" tab.
    tabs = {
        tab: intake_list.intake_queue(db, viewer, today, tab=tab) for tab in ("current", "older")
    }
    assert [i.referral_id for i in tabs["older"]] == [referrals[0].id]
    whole = tabs["current"]
    assert len(whole) + len(tabs["older"]) == len(referrals)
    for tab, listed in tabs.items():
        assert intake_list.intake_queue_count(db, viewer, today, tab=tab) == len(listed)
    assert whole[-1].referral_id == in_time.id  # met: last
    statuses = [i.deadline_status.value for i in whole]
    assert statuses == sorted(statuses, key=["missed", "near", "pending", "met"].index)
    assert late.id in [i.referral_id for i in whole if i.deadline_status.value == "missed"]
    for tab, listed in tabs.items():
        for limit in (1, 3, 5):
            for offset in range(0, len(listed) + 2):
                window = intake_list.intake_queue(
                    db, viewer, today, offset=offset, limit=limit, tab=tab
                )
                assert window == listed[offset : offset + limit], (tab, offset, limit)


# --- the officer's referrals -------------------------------------------------------------------


def test_the_officers_referrals_page_newest_first_and_log_only_the_page(world, sign_in, db):
    now = NOW
    referrals = [
        world.arrest(now=now - timedelta(hours=i), arrested_at=now - timedelta(hours=i + 1))[0]
        for i in range(PAGE_SIZE + 4)
    ]
    expected = sorted(referrals, key=lambda r: (r.referred_at, r.id), reverse=True)
    person_of = {r.id: r.person_id for r in expected}
    user = world.users["officer"]
    officer = sign_in(user=user)

    first = officer.client.get("/referrals")
    assert first.status_code == 200
    shown = linked(first.text, r'href="/referrals/(\d+)"')
    assert shown == [r.id for r in expected[:PAGE_SIZE]]
    entry = list_entries(db, user)[-1]
    assert entry.detail["person_ids"] == sorted(person_of[i] for i in shown)

    assert 'href="/referrals?page=2"' in first.text
    second = officer.client.get("/referrals?page=2")
    rest = linked(second.text, r'href="/referrals/(\d+)"')
    assert rest == [r.id for r in expected[PAGE_SIZE:]]
    assert "/referrals?page=3" not in second.text
    assert list_entries(db, user)[-1].detail["person_ids"] == sorted(person_of[i] for i in rest)


def _next_link(response):
    """The URL of the next page from the Link header, or None on the last page."""
    link = response.headers.get("link")
    if link is None:
        return None
    match = re.fullmatch(r'<(/api/v1/referrals\?before=\d+&limit=\d+)>; rel="next"', link)
    assert match, link
    return match.group(1)


def test_the_officers_referral_api_pages_by_id_and_logs_only_the_page(world, api, db):
    """Keyset paging, newest recorded first: every referral exactly once, another officer's
    never, and a referral recorded while the system pages through does not shift the rest."""
    now = NOW
    # Recorded in id order with their referral times shuffled: the API's order is the id's.
    arrested = now - timedelta(days=5)
    mine = [
        world.arrest(now=now - timedelta(hours=(i * 7) % 19), arrested_at=arrested)[0]
        for i in range(PAGE_SIZE + 4)
    ]
    theirs = world.arrest(officer="officer2")[0]
    person_of = {r.id: r.person_id for r in mine}
    newest_first = sorted(person_of, reverse=True)
    user = world.users["officer"]
    officer = api(user)

    first = officer.get("/api/v1/referrals")
    assert first.status_code == 200
    shown = [r["referral_id"] for r in first.json()]
    assert shown == newest_first[:PAGE_SIZE]
    assert _next_link(first) == f"/api/v1/referrals?before={shown[-1]}&limit={PAGE_SIZE}"
    assert list_entries(db, user)[-1].detail["person_ids"] == sorted(person_of[i] for i in shown)
    second = officer.get(_next_link(first))
    assert [r["referral_id"] for r in second.json()] == newest_first[PAGE_SIZE:]
    assert _next_link(second) is None

    # Seven at a time; a new referral arrives after the first page.
    seen, pages = [], 0
    url = "/api/v1/referrals?limit=7"
    while url is not None:
        response = officer.get(url)
        assert response.status_code == 200
        page = [r["referral_id"] for r in response.json()]
        assert 1 <= len(page) <= 7
        entry = list_entries(db, user)[-1]
        assert entry.detail["person_ids"] == sorted(person_of[i] for i in page)
        seen += page
        pages += 1
        if pages == 1:
            late = world.arrest()[0]
        url = _next_link(response)
    assert seen == newest_first and len(set(seen)) == len(mine)
    assert pages == -(-len(mine) // 7)
    assert theirs.id not in seen and late.id not in seen
    assert officer.get("/api/v1/referrals?limit=1").json()[0]["referral_id"] == late.id
    # The last page is exactly full: no Link, since nothing follows.
    everything = officer.get(f"/api/v1/referrals?before={late.id}&limit={len(mine)}")
    assert len(everything.json()) == len(mine) and _next_link(everything) is None
    assert officer.get(f"/api/v1/referrals?before={min(seen)}").json() == []


BAD_QUERIES = [
    *(f"before={bad}" for bad in ["0", "-1", "abc", "1.5", "2147483648", ""]),
    *(f"limit={bad}" for bad in ["0", "101", "-1", "abc", "1.5", ""]),
    "page=2",
    "befor=9",
    "before=9&after=3",
]


def test_a_bad_cursor_or_limit_changes_nothing(world, api, db):
    world.arrest()
    officer = api(world.users["officer"])
    before = log_size(db)
    for query in BAD_QUERIES:
        response = officer.get(f"/api/v1/referrals?{query}")
        assert response.status_code == 422, (query, response.text)
        name = query.split("=")[0] if query != "before=9&after=3" else "after"
        assert name in json.dumps(response.json()["detail"]), (query, response.text)
    assert log_size(db) == before


# --- the defender's decisions ------------------------------------------------------------------


def test_the_defenders_decisions_page_newest_first_and_log_only_the_page(world, sign_in, db):
    decided = []
    for matter in _arrests(world, PAGE_SIZE + 3):
        db.add(
            ClientAssignment(
                person_id=matter.person_id, user_id=world.users["defender"].id, kind="defense"
            )
        )
        db.commit()
        decided.append(_decide(world, matter, "decline", ["insufficient-evidence"]))
    newest_first = [d.person_id for d in sorted(decided, key=lambda d: d.decision_id, reverse=True)]
    user = world.users["defender"]
    defender = sign_in(user=user)

    first = defender.client.get("/defense")
    assert first.status_code == 200
    shown = linked(first.text, r'href="/clients/(\d+)"')
    assert shown == newest_first[:PAGE_SIZE]
    assert list_entries(db, user)[-1].detail["person_ids"] == sorted(shown)

    assert 'href="/defense?page=2"' in first.text
    second = defender.client.get("/defense?page=2")
    rest = linked(second.text, r'href="/clients/(\d+)"')
    assert rest == newest_first[PAGE_SIZE:]
    assert "/defense?page=3" not in second.text
    assert list_entries(db, user)[-1].detail["person_ids"] == sorted(rest)


@pytest.mark.parametrize(
    "who,path",
    [
        ("county_prosecutor", "/charging"),
        ("case_manager", "/intake"),
        ("officer", "/referrals"),
        ("defender", "/defense"),
    ],
)
def test_a_bad_page_changes_nothing(world, sign_in, db, who, path):
    signed_in = sign_in(user=world.users[who])
    assert_bad_pages_refused(signed_in.client, db, path)
