"""The write policy (issue 14, item 1): who may keep which part of a client's record, its
decision tables, and the history every save leaves (record_section_change)."""

import json
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from hub.audit.models import LogEntry
from hub.caserecord.models import RecordChange
from hub.caserecord.sections import save_section
from hub.caserecord.tables import check_write_tables, read_write_rows
from hub.caserecord.writing import (
    WRITE_TABLES_DIR,
    StaleVersion,
    WriteRefused,
    load_write_policy,
    may_write,
    record_section_change,
    require_write,
    section_version,
)
from hub.clients.models import CaseNote
from hub.clients.services import NoteError, add_case_note, note_categories
from hub.crypto import EncryptedText
from hub.db import table_of
from hub.disclosure.history import disclose_history
from hub.disclosure.policy import POLICY_DIR, PolicyError
from hub.permissions import allowed
from hub.vocabulary import (
    Action,
    AgencyKind,
    Category,
    ConsentKind,
    DisclosureTag,
    Purpose,
    RecordSection,
    Role,
    SecurityEventTag,
    WriteRefusal,
)
from tests.fixtures.referrals import actor_of, viewer_of

KEPT = (Category.contact, Category.engagement, Category.plan, Category.housing, Category.health)


def test_the_write_decision_tables_pass():
    paths = sorted((POLICY_DIR / WRITE_TABLES_DIR).glob("*.csv"))
    rows = read_write_rows(paths)
    assert len(rows) > 200
    assert check_write_tables(rows, load_write_policy()) == []


def test_a_misspelt_write_line_is_refused(tmp_path: Path):
    (tmp_path / "write_model.conf").write_text((POLICY_DIR / "write_model.conf").read_text())
    (tmp_path / "write.csv").write_text("p, case_manager, caseload, housin, none\n")
    with pytest.raises(PolicyError, match="unknown category"):
        load_write_policy(tmp_path)


def test_a_line_cannot_let_police_or_the_admin_write(tmp_path: Path):
    (tmp_path / "write_model.conf").write_text((POLICY_DIR / "write_model.conf").read_text())
    (tmp_path / "write.csv").write_text(
        "p, officer, own_referral, contact, none\np, admin, everyone, contact, none\n"
        "p, case_manager, caseload, treatment, none\n"
    )
    policy = load_write_policy(tmp_path)
    rows = [
        "role,relationship,agency,category,expected",
        "officer,own_referral,none,contact,refused:enforcement_rule",
        "admin,none,none,contact,refused:admin",
        "case_manager,caseload,none,treatment,refused:not_part2_program",
        "case_manager,caseload,part2_program,treatment,allowed",
    ]
    table = tmp_path / "t.csv"
    table.write_text("\n".join(rows) + "\n")
    assert check_write_tables(read_write_rows([table]), policy) == []


@pytest.fixture
def world(db: Session, factories):
    cm_agency = factories.Agency(kind=AgencyKind.case_management, part2_program=True)
    other_cm = factories.Agency(kind=AgencyKind.case_management)
    police = factories.Agency(kind=AgencyKind.police)
    users = {
        "case_manager": factories.User(role=Role.case_manager, agency=cm_agency),
        "colleague": factories.User(role=Role.case_manager, agency=cm_agency),
        "supervisor": factories.User(role=Role.case_manager_supervisor, agency=cm_agency),
        "other_supervisor": factories.User(role=Role.case_manager_supervisor, agency=other_cm),
        "outside_case_manager": factories.User(role=Role.case_manager, agency=other_cm),
        "officer": factories.User(role=Role.officer, agency=police),
        "prosecutor": factories.User(role=Role.prosecutor),
        "defender": factories.User(role=Role.defender),
        "coordinator": factories.User(role=Role.coordinator),
        "privacy_officer": factories.User(role=Role.privacy_officer),
        "admin": factories.User(role=Role.admin, agency=cm_agency),
    }
    person = factories.Person()
    factories.Referral(
        person_id=person.id,
        referring_user=users["officer"],
        case_management_agency_id=cm_agency.id,
    )
    factories.ClientAssignment(person_id=person.id, user_id=users["case_manager"].id)
    factories.ClientAssignment(person_id=person.id, user_id=users["defender"].id, kind="defense")
    return users, person


# Who may keep each kept category of a client referred to a Part 2 program's agency and on
# "case_manager"'s caseload. Treatment: only that Part 2 program's own staff.
EXPECTED = {
    "case_manager": True,
    "colleague": False,
    "supervisor": True,
    "other_supervisor": False,
    "outside_case_manager": False,
    "officer": False,
    "prosecutor": False,
    "defender": False,
    "coordinator": False,
    "privacy_officer": False,
    "admin": False,
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_role_may_write_only_what_the_policy_grants(db, world, name):
    users, person = world
    viewer = viewer_of(db, users[name])
    for category in (*KEPT, Category.treatment):
        assert may_write(db, viewer, person.id, category) is EXPECTED[name], category
    # A note or document about these is filed in the plan file (write.csv's g lines).
    for category in (Category.identity, Category.referral, Category.legal):
        assert may_write(db, viewer, person.id, category) is EXPECTED[name], category


def test_a_refused_write_is_logged_and_says_whether_the_client_is_unseen(db, world):
    users, person = world
    officer = viewer_of(db, users["officer"])
    with pytest.raises(WriteRefused) as refused:
        require_write(db, officer, person.id, Category.housing, actor_of(officer))
    assert refused.value.reason == WriteRefusal.enforcement_rule
    assert refused.value.not_found is False  # the referring officer sees who it is
    admin = viewer_of(db, users["admin"])
    with pytest.raises(WriteRefused) as refused:
        require_write(db, admin, person.id, Category.housing, actor_of(admin))
    assert refused.value.not_found is True
    with pytest.raises(WriteRefused) as refused:
        require_write(db, admin, 999_999, Category.housing, actor_of(admin))
    assert refused.value.not_found is True
    denied = db.exec(
        select(LogEntry).where(LogEntry.tag == SecurityEventTag.access_denied.value)
    ).all()
    assert [e.detail["person_id"] for e in denied] == [person.id, person.id, 999_999]
    assert {e.detail["category"] for e in denied} == {"housing"}
    assert db.exec(select(RecordChange)).all() == []


def test_record_section_change_keeps_the_history_and_refuses_a_stale_version(db, world):
    users, person = world
    viewer = viewer_of(db, users["case_manager"])
    actor = actor_of(viewer)
    grant = require_write(db, viewer, person.id, Category.housing, actor)
    assert section_version(db, person.id, "housing") == 0

    def save(based_on: int, previous: str | None, saved: str) -> RecordChange:
        return record_section_change(
            db,
            viewer,
            actor,
            person.id,
            "housing",
            Category.housing,
            based_on=based_on,
            previous=None if previous is None else {"waitlist": previous},
            saved={"waitlist": saved},
            write_policy_version=grant.write_policy_version,
        )

    save(0, None, "Cedar")
    db.commit()
    save(1, "Cedar", "Birch")
    db.commit()
    with pytest.raises(StaleVersion) as stale:
        save(1, "Cedar", "Oak")
    db.rollback()
    assert (stale.value.based_on, stale.value.current) == (1, 2)
    changes = db.exec(select(RecordChange).order_by(col(RecordChange.version))).all()
    assert [c.version for c in changes] == [1, 2]
    assert json.loads(changes[1].previous) == {"waitlist": "Cedar"}
    assert json.loads(changes[1].saved) == {"waitlist": "Birch"}
    # Sealed at rest: the column holds no plain text.
    raw = db.connection().exec_driver_sql("SELECT saved FROM record_change").all()
    assert all("Birch" not in row[0] and "Cedar" not in row[0] for row in raw)
    assert isinstance(table_of(RecordChange).c.saved.type, EncryptedText)
    events = db.exec(
        select(LogEntry).where(LogEntry.tag == SecurityEventTag.record_changed.value)
    ).all()
    assert [e.detail["version"] for e in events] == [1, 2]
    assert all("Birch" not in json.dumps(e.detail) for e in events)
    assert events[0].categories == ["housing"] and events[0].person_id == person.id


def test_history_is_read_under_the_read_policy_and_part2_by_source(db, world, factories):
    """The case manager works for a Part 2 program, so their housing change is Part 2 data:
    the client's defender sees it only under a Part 2 consent naming their office."""
    users, person = world
    writer = viewer_of(db, users["case_manager"])
    save_section(
        db,
        writer,
        actor_of(writer),
        person.id,
        RecordSection.housing,
        {"waitlist": "Harbor House"},
        based_on=0,
    )
    defender = viewer_of(db, users["defender"])

    def housing_history() -> list:
        history = disclose_history(db, defender, person.id, Purpose.defense, actor_of(defender))
        return [c for c in history.changes if c.category == Category.housing]

    assert housing_history() == []
    consent = {
        "person_id": person.id,
        "recipient_agency_id": users["defender"].agency_id,
        "discloser_agency_id": users["case_manager"].agency_id,
        "created_by_id": users["case_manager"].id,
    }
    factories.Consent(kind=ConsentKind.general, **consent)
    assert housing_history() == []  # a general consent does not release Part 2 data
    factories.Consent(kind=ConsentKind.part2, **consent)
    shown = housing_history()
    assert [c.saved["waitlist"] for c in shown] == ["Harbor House"] and shown[0].part2
    reads = db.exec(
        select(LogEntry).where(LogEntry.tag == DisclosureTag.record_history_read.value)
    ).all()
    assert [("treatment" in e.categories) for e in reads] == [False, False, True]
    # The case manager's own history shows it, the officer's none of it.
    mine = disclose_history(db, writer, person.id, Purpose.case_management, actor_of(writer))
    assert [c.section for c in mine.changes] == ["housing"]
    officer = viewer_of(db, users["officer"])
    theirs = disclose_history(db, officer, person.id, Purpose.referral, actor_of(officer))
    assert theirs.changes == ()


# --- case notes under the same write policy ---------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_case_notes_follow_the_write_policy(db, world, name):
    users, person = world
    viewer = viewer_of(db, users[name])
    writes = EXPECTED[name] and allowed(viewer.role, Action.notes_write)
    for category in (Category.engagement, Category.legal, Category.treatment):
        if writes:
            note = add_case_note(
                db, viewer, person.id, category, "Met at the shelter.", actor_of(viewer)
            )
            assert note.category == category and note.author_id == viewer.user_id
        else:
            with pytest.raises(NoteError):
                add_case_note(
                    db, viewer, person.id, category, "Met at the shelter.", actor_of(viewer)
                )
    expected = [*Category] if writes else []
    assert note_categories(db, viewer, person.id) == expected


def test_a_refused_note_is_a_logged_refusal_and_changes_nothing(db, world, factories):
    users, person = world
    # The colleague works in the same Part 2 program but the client is not on their caseload;
    # an outside case manager's agency is no Part 2 program.
    colleague = viewer_of(db, users["colleague"])
    outsider = viewer_of(db, users["outside_case_manager"])
    factories.ClientAssignment(person_id=person.id, user_id=outsider.user_id)
    before = db.exec(select(LogEntry.seq)).all()
    with pytest.raises(NoteError, match="engagement"):
        add_case_note(
            db, colleague, person.id, Category.engagement, "Came in.", actor_of(colleague)
        )
    with pytest.raises(NoteError, match="treatment"):
        add_case_note(
            db, outsider, person.id, Category.treatment, "Started MOUD.", actor_of(outsider)
        )
    assert db.exec(select(CaseNote)).all() == []
    entries = db.exec(select(LogEntry).where(col(LogEntry.seq).not_in(before))).all()
    assert [(e.tag, e.detail["category"], e.detail["reason"]) for e in entries] == [
        (SecurityEventTag.access_denied.value, "engagement", WriteRefusal.not_on_caseload.value),
        (SecurityEventTag.access_denied.value, "treatment", WriteRefusal.not_part2_program.value),
    ]
    assert {e.detail["action"] for e in entries} == {Action.record_write.value}
    assert all("Came in" not in json.dumps(e.detail) for e in entries)
