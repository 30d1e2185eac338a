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
    search_statement,
)
from hub.vocabulary import Category, LogKind, LogOutcome, Purpose, Role, SecurityEventTag
from tests.privacy_support import SITE, local, record_read, search_read, security_event


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


@pytest.fixture
def category_log(db, factories):
    """Reads disclosing different categories, and entries whose other text names a category
    they did not disclose (a withheld one, a basis, a security event's detail)."""
    cm = factories.User(role=Role.case_manager)
    defender = factories.User(role=Role.defender)
    p1, p2 = factories.Person(), factories.Person()
    reads = [
        record_read(db, cm, p1.id, {"identity": "role", "health": "relationship:caseload"},
                    at=local(2026, 3, 2, 9)),
        record_read(db, defender, p1.id, {"identity": "role", "treatment": "consent:7"},
                    at=local(2026, 3, 3, 9)),
        # Treatment withheld: the word is in the entry's detail, not in its categories.
        record_read(db, defender, p2.id, {"identity": "role"},
                    withheld={"treatment": "no_consent", "health": "no_consent"},
                    at=local(2026, 3, 3, 11)),
        record_read(db, cm, p2.id, {}, participation="site:officer_sees_participation",
                    at=local(2026, 3, 4, 9)),
        security_event(db, SecurityEventTag.sign_in_success, user=cm, note='"treatment"',
                       at=local(2026, 3, 4, 10)),
        record_read(db, cm, p2.id, {"contact": "relationship:caseload",
                                    "treatment": "consent:8"}, at=local(2026, 3, 5, 9)),
        search_read(db, cm, {p1.id: "role"}, at=local(2026, 3, 5, 10)),
        record_read(db, cm, p1.id, {"health": "relationship:caseload"}, at=local(2026, 3, 6, 9)),
    ]  # fmt: skip
    return {"entries": reads, "p1": p1, "p2": p2, "cm": cm}


def test_a_category_finds_exactly_the_entries_that_disclosed_it(db, category_log):
    entries = category_log["entries"]
    newest_first = sorted(entries, key=lambda e: e.seq, reverse=True)
    p1 = category_log["p1"].id
    day = local(2026, 3, 3).date()
    for category in Category:
        disclosed = [e.seq for e in newest_first if category.value in e.categories]
        assert seqs(db, LogFilter(category=category)) == disclosed, category
        with_client = [e.seq for e in newest_first if e.person_id == p1]
        assert seqs(db, LogFilter(category=category, person_id=p1)) == [
            s for s in disclosed if s in with_client
        ], category
        on_day = [e.seq for e in newest_first if e.recorded_at.astimezone(SITE).date() == day]
        assert seqs(db, LogFilter(category=category, since=day, until=day)) == [
            s for s in disclosed if s in on_day
        ], category
        # Keyset pages of one entry walk the same entries.
        paged, before = [], None
        while True:
            page = search_log(db, LogFilter(category=category), before=before, limit=1)
            paged += [e.seq for e in page.entries]
            if (before := page.next_before) is None:
                break
        assert paged == disclosed, category
    # The word alone is not enough: the withheld treatment, the security event's detail.
    treatment = seqs(db, LogFilter(category=Category.treatment))
    assert treatment == [entries[5].seq, entries[1].seq]
    assert seqs(db, LogFilter(category=Category.health)) == [entries[7].seq, entries[0].seq]


def _plan(db, found) -> str:
    statement = search_statement(db, found, None, 50)
    assert statement is not None
    bind = db.get_bind()
    sql = str(statement.compile(dialect=bind.dialect, compile_kwargs={"literal_binds": True}))
    connection = db.connection()
    if bind.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(str(row[-1]) for row in rows)
    # Whether the index CAN serve the query (its condition is proven by the query's), not
    # which plan a tiny table costs cheapest: with sequential scans priced out.
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    return "\n".join(str(row[0]) for row in connection.exec_driver_sql("EXPLAIN " + sql))


def test_a_category_search_walks_that_category_s_index(db, category_log):
    day = local(2026, 3, 3).date()
    # The condition is SQL text, not a bound parameter: a prepared statement's generic plan
    # (psycopg prepares a query run five times) could not prove a partial index's condition
    # from a parameter.
    statement = search_statement(db, LogFilter(category=Category.treatment), None, 50)
    assert statement is not None
    compiled = statement.compile(dialect=db.get_bind().dialect)
    assert """LIKE '%"treatment"%'""" in str(compiled).replace("%%", "%")
    assert '%"treatment"%' not in [str(v) for v in compiled.params.values()]
    # Every category, so a new one fails here until a migration adds its index (alembic's
    # model-to-schema comparison does not see a partial index missing).
    for category in Category:
        index = f"ix_log_entry_cat_{category.value}"
        plan = _plan(db, LogFilter(category=category))
        assert index in plan, plan
        plan = _plan(db, LogFilter(category=category, since=day, until=day))
        assert index in plan, plan
        db.rollback()
    if db.get_bind().dialect.name == "sqlite":
        # Newest first from the index itself: no sort step, the date span a range of seq.
        plan = _plan(db, LogFilter(category=Category.treatment, since=day, until=day))
        assert "USING INDEX ix_log_entry_cat_treatment (seq>? AND seq<?)" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
