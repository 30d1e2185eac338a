"""The console's search of the log: every filter, keyset pages on seq, dates as seq ranges, and
one client's disclosures (record reads and the searches that showed them)."""

import pytest
from sqlmodel import col, select

from hub.audit.models import LogEntry
from hub.privacy.search import (
    FilterError,
    LogFilter,
    client_disclosures,
    parse_filter,
    search_log,
)
from hub.vocabulary import Category, LogKind, LogOutcome, Purpose, Role, SecurityEventTag
from tests.privacy_support import local, record_read, search_read, security_event


def seqs(db, found, **kwargs):
    return [e.seq for e in search_log(db, found, **kwargs).entries]


@pytest.fixture
def log(db, factories):
    """A small log with one distinguishing entry per filter."""
    cm = factories.User(role=Role.case_manager)
    officer = factories.User(role=Role.officer)
    defender = factories.User(role=Role.defender)
    p1, p2 = factories.Person(), factories.Person()
    e = {}
    e["cm_p1"] = record_read(
        db, cm, p1.id, {"identity": "relationship:caseload", "health": "relationship:caseload"},
        at=local(2026, 3, 2, 9),
    )  # fmt: skip
    e["officer_p2"] = record_read(
        db, officer, p2.id, {"identity": "relationship:own_referral"},
        purpose=Purpose.referral.value, at=local(2026, 3, 3, 9),
    )  # fmt: skip
    e["defender_p1"] = record_read(
        db, defender, p1.id, {"identity": "role", "treatment": "consent:7"},
        purpose=Purpose.defense.value, at=local(2026, 3, 4, 9),
    )  # fmt: skip
    e["officer_withheld"] = record_read(
        db, officer, p1.id, {}, withheld={"identity": "not_related"},
        purpose=Purpose.referral.value, at=local(2026, 3, 5, 9),
    )  # fmt: skip
    e["sign_in"] = security_event(
        db, SecurityEventTag.sign_in_success, user=cm, at=local(2026, 3, 6, 9)
    )
    return {"cm": cm, "officer": officer, "defender": defender, "p1": p1, "p2": p2, **e}


def test_each_filter_finds_exactly_its_entries(db, log):
    s = {k: v.seq for k, v in log.items() if isinstance(v, LogEntry)}
    cases = [
        (LogFilter(person_id=log["p1"].id), [s["officer_withheld"], s["defender_p1"], s["cm_p1"]]),
        (LogFilter(person_id=log["p2"].id), [s["officer_p2"]]),
        (LogFilter(user_id=log["cm"].id), [s["sign_in"], s["cm_p1"]]),
        (LogFilter(agency_id=log["defender"].agency_id), [s["defender_p1"]]),
        (LogFilter(role=Role.officer), [s["officer_withheld"], s["officer_p2"]]),
        (LogFilter(category=Category.health), [s["cm_p1"]]),
        (LogFilter(category=Category.treatment), [s["defender_p1"]]),
        (LogFilter(purpose=Purpose.defense), [s["defender_p1"]]),
        (LogFilter(basis="consent"), [s["defender_p1"]]),
        (LogFilter(basis="consent:7"), [s["defender_p1"]]),
        (LogFilter(basis="consent:70"), []),
        (LogFilter(basis="role"), [s["defender_p1"]]),
        (LogFilter(basis="relationship:own_referral"), [s["officer_p2"]]),
        (LogFilter(basis="relationship"), [s["officer_p2"], s["cm_p1"]]),
        (LogFilter(kind=LogKind.security), [s["sign_in"]]),
        (LogFilter(tag=SecurityEventTag.sign_in_success.value), [s["sign_in"]]),
        (LogFilter(outcome=LogOutcome.withheld), [s["officer_withheld"]]),
        (
            LogFilter(since=local(2026, 3, 4).date()),
            [s["sign_in"], s["officer_withheld"], s["defender_p1"]],
        ),
        (LogFilter(until=local(2026, 3, 3).date()), [s["officer_p2"], s["cm_p1"]]),
        (
            LogFilter(since=local(2026, 3, 3).date(), until=local(2026, 3, 4).date()),
            [s["defender_p1"], s["officer_p2"]],
        ),
        (LogFilter(since=local(2026, 4, 1).date()), []),
        (LogFilter(role=Role.officer, person_id=log["p1"].id), [s["officer_withheld"]]),
    ]
    for found, expected in cases:
        assert seqs(db, found) == expected, found


def test_dates_are_site_local_days(db, factories):
    # 23:30 in the site's zone is the next day in UTC: it still belongs to its local day.
    cm = factories.User(role=Role.case_manager)
    person = factories.Person()
    late = record_read(db, cm, person.id, {"identity": "role"}, at=local(2026, 3, 2, 23, 30))
    next_day = record_read(db, cm, person.id, {"identity": "role"}, at=local(2026, 3, 3, 0, 30))
    day = local(2026, 3, 2).date()
    assert seqs(db, LogFilter(since=day, until=day)) == [late.seq]
    assert seqs(db, LogFilter(since=local(2026, 3, 3).date())) == [next_day.seq]


def test_keyset_pages_cover_every_entry_once_newest_first(db, factories):
    cm = factories.User(role=Role.case_manager)
    person = factories.Person()
    for _ in range(23):
        record_read(db, cm, person.id, {"identity": "relationship:caseload"})
    everything = list(db.exec(select(LogEntry.seq).order_by(col(LogEntry.seq).desc())))
    db.commit()
    seen, before = [], None
    first = search_log(db, LogFilter(user_id=cm.id), limit=10)
    # An entry appended while paging does not shift the pages already being read.
    record_read(db, cm, person.id, {"identity": "relationship:caseload"})
    page = first
    while True:
        seen += [e.seq for e in page.entries]
        before = page.next_before
        if before is None:
            break
        assert before == page.entries[-1].seq
        page = search_log(db, LogFilter(user_id=cm.id), before=before, limit=10)
    assert [len(seen[i : i + 10]) for i in range(0, len(seen), 10)] == [10, 10, 3]
    assert seen == everything


def test_a_deep_page_is_found_from_its_cursor_alone(db, factories):
    cm = factories.User(role=Role.case_manager)
    person = factories.Person()
    entries = [record_read(db, cm, person.id, {"identity": "role"}) for _ in range(8)]
    page = search_log(db, LogFilter(role=Role.case_manager), before=entries[5].seq, limit=3)
    assert [e.seq for e in page.entries] == [entries[4].seq, entries[3].seq, entries[2].seq]
    assert page.next_before == entries[2].seq


def test_parse_filter_refuses_unusable_values_and_keeps_names_out():
    assert parse_filter({"person_id": " 12 ", "role": "officer", "since": ""}) == LogFilter(
        person_id=12, role=Role.officer
    )
    for bad in (
        {"person_id": "Smith"},
        {"role": "sheriff"},
        {"tag": "anything"},
        {"basis": "consent:x"},
        {"since": "2026-13-01"},
        {"since": "2026-03-02", "until": "2026-03-01"},
    ):
        with pytest.raises(FilterError):
            parse_filter(bad)
    # There is no name filter: a name is dropped, never searched for nor described.
    assert parse_filter({"name": "Smith"}).described() == {}


def test_client_disclosures_hold_record_reads_and_searches_that_showed_the_client(db, factories):
    cm = factories.User(role=Role.case_manager)
    p1, p2, p12 = factories.Person(), factories.Person(), factories.Person()
    read = record_read(db, cm, p1.id, {"identity": "relationship:caseload"})
    alone = search_read(db, cm, {p1.id: "relationship:caseload"})
    among = search_read(db, cm, {p2.id: "role", p1.id: "role", p12.id: "role"})
    search_read(db, cm, {p2.id: "role"})
    not_p1 = search_read(db, cm, {p12.id: "role"})
    found, more = client_disclosures(db, p1.id)
    assert [d.seq for d in found] == [among.seq, alone.seq, read.seq]
    assert more is None
    assert found[0].via_search and found[0].categories == ("identity",)
    assert found[0].basis == {"identity": "role"}
    assert [d.seq for d in client_disclosures(db, p12.id)[0]] == [not_p1.seq, among.seq]
    # Paged: the two streams merge on seq.
    page, before = client_disclosures(db, p1.id, limit=2)
    assert [d.seq for d in page] == [among.seq, alone.seq]
    rest, end = client_disclosures(db, p1.id, before=before, limit=2)
    assert [d.seq for d in rest] == [read.seq] and end is None


def test_a_participation_only_read_is_a_disclosure(db, factories):
    officer = factories.User(role=Role.officer)
    person = factories.Person()
    record_read(db, officer, person.id, {}, participation="site:officer_sees_participation")
    (found,), _ = client_disclosures(db, person.id)
    assert found.disclosed
    assert found.categories == ("participation",)
    assert found.basis == {"participation": "site:officer_sees_participation"}
