"""disclose_record and disclose_search: what a read returns, what it logs, and what happens
when the log cannot be written. The full role x category x purpose matrix is in
tests/test_policy_matrix.py."""

import pytest
from sqlalchemy import MetaData
from sqlmodel import SQLModel, col, select

from hub.accounts.sessions import viewer_for
from hub.audit import log as audit_log
from hub.audit.models import LogEntry
from hub.clients.models import CaseNote
from hub.db import table_of
from hub.disclosure.field_map import FIELD_MAP, OUTSIDE_RECORD, ROW_CATEGORY
from hub.disclosure.notice import REDISCLOSURE_NOTICE
from hub.disclosure.policy import PersonNotFound, load_policy
from hub.disclosure.record import disclose_record
from hub.disclosure.record_search import SearchError, SearchQuery, disclose_search
from hub.disclosure.record_view import (
    Contact,
    Identity,
    Legal,
    Treatment,
    WithheldCategory,
)
from hub.models import metadata
from hub.vocabulary import Category, Purpose, Role, WithheldReason
from tests.factories import full_client
from tests.fixtures.small_program import ACTOR


def entries(db):
    db.rollback()
    return db.exec(select(LogEntry).order_by(col(LogEntry.seq))).all()


def test_case_manager_reads_the_whole_record_and_the_read_is_logged(db, program):
    viewer = viewer_for(db, program.case_manager)
    record = disclose_record(db, viewer, program.person.id, Purpose.case_management, ACTOR)

    assert record.withheld == []
    assert isinstance(record.identity, Identity)
    assert record.identity.last_name == program.person.last_name
    assert isinstance(record.contact, Contact)
    assert record.contact.phone == "555-0100"
    assert isinstance(record.treatment, Treatment)
    assert record.treatment.entries[0].program == "Outpatient MOUD"
    assert isinstance(record.legal, Legal)
    assert record.legal.matters[0].decisions[0].outcome == "divert"
    assert {n.category for n in record.notes} == set(Category)
    assert record.part2 is True and record.notice == REDISCLOSURE_NOTICE
    assert record.basis[Category.treatment] == "relationship:caseload"

    (entry,) = entries(db)
    assert entry.seq == record.log_seq
    assert (entry.kind, entry.tag, entry.outcome) == (
        "disclosure",
        "disclosure:client_record:read",
        "disclosed",
    )
    assert entry.actor_user_id == program.case_manager.id
    assert entry.actor_role == "case_manager"
    assert entry.actor_agency_id == program.cm_agency.id
    assert entry.person_id == program.person.id
    assert entry.purpose == "case_management"
    assert entry.request_id == "req-1"
    assert entry.policy_version == load_policy().version == record.policy_version
    assert sorted(entry.categories) == sorted(c.value for c in Category)
    assert entry.detail["basis"]["identity"] == "relationship:caseload"
    assert sorted(entry.detail["notes"]) == sorted(n.id for n in record.notes)


def test_withheld_categories_are_removed_not_blanked(db, program):
    viewer = viewer_for(db, program.officer)
    record = disclose_record(db, viewer, program.person.id, Purpose.referral, ACTOR)

    # Their own referral's legal outcome is the officer's feedback (policies/policy.csv).
    assert record.disclosed_categories == [
        Category.identity,
        Category.referral,
        Category.legal,
        Category.engagement,
    ]
    assert record.treatment == WithheldCategory(Category.treatment, WithheldReason.enforcement_rule)
    assert isinstance(record.health, WithheldCategory)
    assert record.health.reason == WithheldReason.enforcement_rule
    assert isinstance(record.contact, WithheldCategory)
    assert record.contact.reason == WithheldReason.deny_by_default
    assert {n.category for n in record.notes} <= {
        Category.identity,
        Category.referral,
        Category.legal,
        Category.engagement,
    }
    assert {Category.identity, Category.referral, Category.engagement} <= {
        n.category for n in record.notes
    }
    assert record.part2 is False and record.notice is None
    (entry,) = entries(db)
    assert entry.detail["withheld"]["treatment"] == "enforcement_rule"
    assert "A note about treatment" not in repr(record)


def test_withheld_rows_are_never_loaded(db, program, monkeypatch):
    """A withheld category's table is not even queried (so its sealed values are never opened)."""
    statements = []
    from sqlalchemy import event

    engine = db.get_bind()

    def record_statement(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record_statement)
    try:
        disclose_record(
            db, viewer_for(db, program.officer), program.person.id, Purpose.referral, ACTOR
        )
    finally:
        event.remove(engine, "before_cursor_execute", record_statement)
    text = "\n".join(statements)
    for table in (
        "treatment_record",
        "health_record",
        "person_contact",
        "housing_record",
        "plan_goal",
    ):
        assert table not in text
    assert "race_ethnicity" not in text  # demographics columns of person are not selected


def test_a_failed_log_write_returns_nothing_and_keeps_nothing(db, program, monkeypatch):
    def broken_append(*args, **kwargs):
        raise RuntimeError("log unavailable")

    monkeypatch.setattr(audit_log, "append", broken_append)
    viewer = viewer_for(db, program.case_manager)
    with pytest.raises(RuntimeError, match="log unavailable"):
        disclose_record(db, viewer, program.person.id, Purpose.case_management, ACTOR)
    monkeypatch.undo()
    assert entries(db) == []


def test_a_failed_commit_returns_nothing_and_keeps_nothing(db, program, monkeypatch):
    viewer = viewer_for(db, program.case_manager)

    def broken_commit():
        raise RuntimeError("disk full")

    monkeypatch.setattr(db, "commit", broken_commit)
    with pytest.raises(RuntimeError, match="disk full"):
        disclose_record(db, viewer, program.person.id, Purpose.case_management, ACTOR)
    monkeypatch.undo()
    assert entries(db) == []


def test_unknown_person(db, program):
    with pytest.raises(PersonNotFound):
        disclose_record(
            db, viewer_for(db, program.case_manager), 10**6, Purpose.case_management, ACTOR
        )
    assert entries(db) == []


def test_admin_gets_nothing_but_the_read_is_logged(db, program, factories):
    admin = factories.User(role=Role.admin, agency=program.cm_agency)
    record = disclose_record(
        db, viewer_for(db, admin), program.person.id, Purpose.case_management, ACTOR
    )
    assert record.disclosed_categories == [] and record.notes == ()
    assert {w.reason for w in record.withheld} == {WithheldReason.admin}
    assert record.participant is None
    (entry,) = entries(db)
    assert entry.outcome == "withheld" and entry.categories == []


def _namesake(db, program, referring_officer):
    """A client of the program's agencies, referred by another officer, with the same last
    name as the program's person (so one search finds both)."""
    stranger = full_client(
        db,
        referring_user=referring_officer,
        case_management_agency_id=program.cm_agency.id,
        prosecuting_agency_id=program.prosecution.id,
        note_author=program.case_manager,
    )
    stranger.last_name = program.person.last_name
    db.add(stranger)
    db.flush()
    return stranger


def test_search_discloses_identity_only_of_whom_the_viewer_may_see(db, program, factories):
    stranger = _namesake(db, program, factories.User(role=Role.officer, agency=program.police))
    db.commit()

    query = SearchQuery(name=program.person.last_name.upper()[:4])
    officer = disclose_search(db, viewer_for(db, program.officer), query, Purpose.referral, ACTOR)
    assert [h.person_id for h in officer.hits] == [program.person.id]
    assert officer.hits[0].identity.first_name == program.person.first_name

    cm = disclose_search(
        db, viewer_for(db, program.case_manager), query, Purpose.case_management, ACTOR
    )
    assert {h.person_id for h in cm.hits} == {program.person.id, stranger.id}

    research = disclose_search(
        db, viewer_for(db, program.case_manager), query, Purpose.research, ACTOR
    )
    assert research.hits == ()

    officer_entry, cm_entry, research_entry = entries(db)
    assert officer_entry.tag == "disclosure:client_search:read"
    assert officer_entry.detail["person_ids"] == [program.person.id]
    assert officer_entry.detail["withheld_count"] == 1
    assert officer_entry.categories == ["identity"]
    assert sorted(cm_entry.detail["person_ids"]) == sorted([program.person.id, stranger.id])
    assert research_entry.outcome == "withheld"
    assert program.person.last_name not in repr(officer_entry.detail)


def test_search_decides_candidates_a_chunk_at_a_time_and_stops_once_the_page_is_full(
    db, program, factories, monkeypatch
):
    """A search shows at most MAX_SEARCH_RESULTS, the first in id order the viewer may see;
    it gathers facts a chunk of candidates at a time and stops once the page is full, with
    the same hits and the same log entry as deciding every candidate."""
    from hub.disclosure import record_search

    other_officer = factories.User(role=Role.officer, agency=program.police)
    strangers = [_namesake(db, program, other_officer).id for _ in range(6)]
    db.commit()
    monkeypatch.setattr(record_search, "MAX_SEARCH_RESULTS", 2)
    monkeypatch.setattr(record_search, "SEARCH_DECIDE_CHUNK", 2)
    gathered: list[list[int]] = []
    real_gather = record_search.gather_facts_many

    def gather(db, viewer, ids, now):
        gathered.append(list(ids))
        return real_gather(db, viewer, ids, now)

    monkeypatch.setattr(record_search, "gather_facts_many", gather)
    candidates = sorted([program.person.id, *strangers])
    query = SearchQuery(name=program.person.last_name)

    cm = disclose_search(
        db, viewer_for(db, program.case_manager), query, Purpose.case_management, ACTOR
    )
    assert [h.person_id for h in cm.hits] == candidates[:2]
    assert gathered == [candidates[:2]]  # the first chunk filled the page

    gathered.clear()
    officer = disclose_search(db, viewer_for(db, program.officer), query, Purpose.referral, ACTOR)
    assert [h.person_id for h in officer.hits] == [program.person.id]
    assert [pid for chunk in gathered for pid in chunk] == candidates  # never full: all decided

    cm_entry, officer_entry = entries(db)
    assert cm_entry.detail["person_ids"] == candidates[:2]
    assert cm_entry.detail["withheld_count"] == len(candidates) - 2
    assert officer_entry.detail["person_ids"] == [program.person.id]
    assert officer_entry.detail["withheld_count"] == len(candidates) - 1


def test_search_by_alias_and_date_of_birth(db, program):
    viewer = viewer_for(db, program.case_manager)
    alias = program.person  # the factory gave the person one alias
    from hub.clients.models import PersonAlias

    name = db.exec(select(PersonAlias.name).where(PersonAlias.person_id == alias.id)).one()
    hits = disclose_search(
        db, viewer, SearchQuery(name=name.split()[0]), Purpose.case_management, ACTOR
    ).hits
    assert program.person.id in {h.person_id for h in hits}
    hits = disclose_search(
        db,
        viewer,
        SearchQuery(date_of_birth=program.person.date_of_birth),
        Purpose.case_management,
        ACTOR,
    ).hits
    assert program.person.id in {h.person_id for h in hits}


def test_search_refuses_empty_terms(db, program):
    with pytest.raises(SearchError):
        disclose_search(
            db, viewer_for(db, program.officer), SearchQuery(name=" a "), Purpose.referral, ACTOR
        )


# --- the field map ----------------------------------------------------------------------------


def _client_tables(meta: MetaData) -> set[str]:
    """Every table that refers to a client, directly or through another client table."""
    found = {"person"}
    changed = True
    while changed:
        changed = False
        for table in meta.sorted_tables:
            if table.name in found:
                continue
            if any(fk.column.table.name in found for fk in table.foreign_keys):
                found.add(table.name)
                changed = True
    return found - {"log_entry"}


def test_field_map_covers_every_field_of_every_client_table():
    client_tables = _client_tables(metadata)
    assert client_tables == set(FIELD_MAP) | set(OUTSIDE_RECORD)
    assert not set(FIELD_MAP) & set(OUTSIDE_RECORD)
    for name, fields in FIELD_MAP.items():
        columns = {c.name for c in metadata.tables[name].columns}
        assert set(fields) == columns, name
        for value in fields.values():
            assert isinstance(value, Category) or value is ROW_CATEGORY
    assert set(FIELD_MAP["case_note"].values()) == {ROW_CATEGORY}
    assert "category" in {c.name for c in table_of(CaseNote).columns}
    assert SQLModel.metadata is metadata
