"""End of retention: personal parts of entries older than the retention period (at least six
years) are erased, never younger ones; the log still verifies and counts them as erased."""

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select
from typer.testing import CliRunner

import hub.audit.log
from hub.audit.checkpoint import sign_checkpoint
from hub.audit.models import LogEntry, LogRetention
from hub.audit.services import erase_expired, retention_cutoff
from hub.cli import app as cli
from hub.db import utcnow
from hub.settings import get_settings
from tests.audit_support import add_entries, verify


@pytest.fixture
def aged_log(db, monkeypatch):
    """Entries 0-2 recorded 7 years ago, 3-4 five years ago, 5-6 now; heads over them."""
    now = utcnow()
    for years, count in ((7, 3), (5, 2)):
        monkeypatch.setattr(
            hub.audit.log, "utcnow", lambda y=years: now - timedelta(days=365 * y + 2)
        )
        add_entries(db, count)
    monkeypatch.undo()
    add_entries(db, 2)
    sign_checkpoint(db)
    db.commit()
    return db


def test_only_entries_past_retention_are_erased_and_the_log_still_verifies(aged_log):
    db = aged_log
    assert erase_expired(db) == 3
    db.commit()
    db.expire_all()
    entries = db.exec(select(LogEntry).order_by(col(LogEntry.seq))).all()
    erased = [e for e in entries if e.erased_at is not None]
    assert [e.seq for e in erased] == [0, 1, 2]
    for entry in erased:
        assert (entry.actor_user_id, entry.person_id, entry.request_id) == (None, None, None)
        assert (entry.address, entry.detail, entry.salt) == (None, None, None)
    assert entries[3].person_id is not None
    assert entries[-1].tag == "audit:log:erased"
    report = verify(db)
    assert report.ok, report.problems
    assert report.erased == 3
    assert erase_expired(db) == 0


def test_a_longer_retention_period_is_kept(aged_log, monkeypatch):
    monkeypatch.setenv("HUB_RETENTION_YEARS", "8")
    get_settings.cache_clear()
    assert erase_expired(aged_log) == 0


def test_the_database_refuses_an_early_erasure(aged_log):
    db = aged_log
    erase_expired(db)
    db.commit()
    erase = (
        "UPDATE log_entry SET actor_user_id = NULL, person_id = NULL, request_id = NULL, "
        "address = NULL, detail = NULL, salt = NULL, erased_at = recorded_at WHERE seq = 3"
    )
    with pytest.raises(DBAPIError, match="append-only log"):
        db.execute(text(erase))
    db.rollback()
    # Nor can the retention date be moved closer than six years to now.
    retention = db.get(LogRetention, 1)
    retention.erase_before = utcnow() - timedelta(days=365 * 5)
    db.add(retention)
    with pytest.raises(DBAPIError, match="append-only log"):
        db.commit()
    db.rollback()


def test_an_erased_entry_cannot_be_changed_again(aged_log):
    db = aged_log
    erase_expired(db)
    db.commit()
    with pytest.raises(DBAPIError, match="append-only log"):
        db.execute(text("UPDATE log_entry SET salt = 'aa' WHERE seq = 0"))
    db.rollback()


def test_the_erase_expired_command(aged_log):
    result = CliRunner().invoke(cli, ["audit", "erase-expired"])
    assert result.exit_code == 0, result.output
    assert "Personal parts erased: 3." in result.output


def test_retention_cutoff_is_the_start_of_a_day_and_handles_leap_days():
    from datetime import UTC, datetime

    leap = datetime(2028, 2, 29, 15, 30, tzinfo=UTC)
    assert retention_cutoff(leap, 6) == datetime(2022, 2, 28, tzinfo=UTC)
    assert retention_cutoff(datetime(2030, 6, 1, 1, tzinfo=UTC), 6) == datetime(
        2024, 6, 1, tzinfo=UTC
    )


def test_retention_below_six_years_is_refused(monkeypatch):
    from pydantic import ValidationError

    from hub.settings import Settings

    monkeypatch.setenv("HUB_RETENTION_YEARS", "5")
    with pytest.raises(ValidationError):
        Settings()
