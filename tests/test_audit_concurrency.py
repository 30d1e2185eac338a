"""Appends from several processes make one gapless, consistent log; a failed append leaves
nothing of the caller's transaction behind."""

import os
import subprocess
import sys

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

import hub.audit.log
from hub.audit.checkpoint import sign_checkpoint
from hub.audit.log import append
from hub.audit.models import LogEntry
from hub.db import get_engine
from hub.settings import PROJECT_ROOT
from hub.site import SiteSetting
from tests.audit_support import disclosure, verify

WRITER = """
import sys
from sqlmodel import Session
from hub.audit.log import append
from hub.db import get_engine
from tests.audit_support import disclosure

sys.stdin.readline()  # start together
engine = get_engine()
for n in range(200):
    with Session(engine) as db:
        append(db, *disclosure(n))
        db.commit()
"""


@pytest.mark.parametrize("backend", ["postgres"])
def test_two_processes_append_one_gapless_log(db, database_url):
    environment = os.environ | {"HUB_DATABASE_URL": database_url, "PYTHONPATH": str(PROJECT_ROOT)}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER],
            stdin=subprocess.PIPE,
            cwd=PROJECT_ROOT,
            env=environment,
            text=True,
        )
        for _ in range(2)
    ]
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.close()
        assert writer.wait(timeout=120) == 0
    seqs = db.exec(select(LogEntry.seq).order_by(col(LogEntry.seq))).all()
    assert seqs == list(range(400))
    head = sign_checkpoint(db)
    db.commit()
    assert head is not None
    assert head.tree_size == 400
    report = verify(db)
    assert report.ok, report.problems
    assert report.root.hex() == head.root_hash


def test_a_failed_append_rolls_back_the_callers_transaction(db, monkeypatch):
    engine = get_engine()
    with Session(engine) as session:
        session.add(SiteSetting(key="shown", value=True))
        session.flush()
        # A seq out of turn: the database refuses the entry (migration 0002audit).
        monkeypatch.setattr(hub.audit.log, "_next_place", lambda db: (5, hub.audit.log.utcnow()))
        with pytest.raises(Exception, match="append-only log"):
            append(session, *disclosure(0))
            session.commit()
        session.rollback()
    monkeypatch.undo()
    with Session(engine) as session:
        actor, event = disclosure(1)
        session.add(SiteSetting(key="shown", value=True))
        event.detail = {"not json": object()}
        with pytest.raises(TypeError):
            append(session, actor, event)
        session.rollback()
    assert db.get(SiteSetting, "shown") is None
    assert db.exec(select(func.count()).select_from(LogEntry)).one() == 0
