"""The database refuses changes to the log (migration 0002audit), on SQLite and PostgreSQL."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from hub.audit.checkpoint import checkpoint_round, sign_checkpoint
from hub.audit.integrity import missing_triggers, refused_changes
from hub.audit.models import LogEntry
from hub.vocabulary import SecurityEventTag
from tests.audit_support import add_entries, drop_triggers, verify

REFUSALS = [
    "UPDATE log_entry SET outcome = 'withheld' WHERE seq = 1",
    "UPDATE log_entry SET person_id = 5 WHERE seq = 1",
    "UPDATE log_entry SET leaf_hash = personal_digest WHERE seq = 1",
    # an "erasure" of a recent entry: refused, retention has not run out
    "UPDATE log_entry SET actor_user_id = NULL, person_id = NULL, request_id = NULL, "
    "address = NULL, detail = NULL, salt = NULL, erased_at = recorded_at WHERE seq = 1",
    "DELETE FROM log_entry WHERE seq = 2",
    "DELETE FROM log_entry",
    "UPDATE tree_head SET root_hash = 'x'",
    "DELETE FROM tree_head",
    "INSERT INTO log_retention (id, erase_before) VALUES (2, '2000-01-01')",
    "DELETE FROM log_retention",
    "UPDATE log_retention SET erase_before = '2999-01-01'",
]


def tamper_events(db):
    db.expire_all()
    return db.exec(
        select(LogEntry).where(LogEntry.tag == SecurityEventTag.log_tamper_attempt)
    ).all()


def refused(db, statement):
    with pytest.raises(DBAPIError) as caught:
        db.execute(text(statement))
    db.rollback()
    return str(caught.value)


@pytest.mark.parametrize("statement", REFUSALS)
def test_changes_to_the_log_are_refused(db, statement):
    add_entries(db, 3)
    sign_checkpoint(db)
    db.commit()
    message = refused(db, statement)
    assert "append-only log:" in message
    assert verify(db).ok


@pytest.mark.parametrize("backend", ["postgres"])  # SQLite has no TRUNCATE
def test_truncate_is_refused_on_postgres(db):
    add_entries(db, 2)
    sign_checkpoint(db)
    db.commit()
    for table in ("log_entry", "tree_head", "log_retention"):
        assert "append-only log: TRUNCATE" in refused(db, f"TRUNCATE {table} CASCADE")
    assert db.scalar(text("SELECT count(*) FROM log_entry")) == 2


def test_an_entry_must_take_the_next_seq(db):
    add_entries(db, 2)
    entry = db.get(LogEntry, 1)
    columns = "kind, tag, outcome, recorded_at, personal_digest, leaf_hash, categories"
    values = f"'{entry.kind}', 'x', 'success', '2026-01-01', 'd', 'l', '[]'"
    for seq in (1, 5):
        message = refused(db, f"INSERT INTO log_entry (seq, {columns}) VALUES ({seq}, {values})")
        assert "append-only log: INSERT" in message


def test_pushed_at_may_be_set_once(db):
    add_entries(db, 1)
    sign_checkpoint(db)
    db.commit()
    db.execute(text("UPDATE tree_head SET pushed_at = created_at"))
    db.commit()
    assert "append-only log: UPDATE" in refused(db, "UPDATE tree_head SET pushed_at = NULL")


def test_the_guard_is_whole_and_reports_its_own_absence(db):
    with db.get_bind().connect() as connection:
        assert missing_triggers(connection) == []
    drop_triggers(db)
    with db.get_bind().connect() as connection:
        assert "log_entry_no_delete" in missing_triggers(connection) or (
            "log_entry_append_only_delete" in missing_triggers(connection)
        )
    report = verify(db)
    assert not report.ok
    assert "append-only triggers are gone" in str(report.problems[-1])


@pytest.mark.parametrize("backend", ["postgres"])  # SQLite rolls back the count with the refusal
def test_refused_changes_are_counted_and_logged_on_postgres(db):
    add_entries(db, 2)
    for _ in range(3):
        refused(db, "DELETE FROM log_entry WHERE seq = 0")
    with db.get_bind().connect() as connection:
        assert refused_changes(connection) == 3
    checkpoint_round()
    tamper = tamper_events(db)
    assert len(tamper) == 1
    assert tamper[0].detail == {"missing_triggers": [], "refused_changes": 3}
    checkpoint_round()  # nothing new: no second event
    assert len(tamper_events(db)) == 1
    report = verify(db)
    assert report.ok
    assert "refused 3 attempted change(s)" in report.warnings[0]


def test_a_dropped_trigger_is_logged_by_the_periodic_check(db):
    add_entries(db, 1)
    drop_triggers(db)
    checkpoint_round()
    [tamper] = tamper_events(db)
    assert tamper.outcome == "failure"
    assert tamper.detail["missing_triggers"]
