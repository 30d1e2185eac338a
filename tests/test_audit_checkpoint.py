"""Checkpoints: C2SP signed notes with Ed25519, signed on demand and by the periodic task,
consistent with the previous head, pushed outside the database."""

import asyncio
import base64
import http.server
import threading

import pytest
from sqlalchemy import text
from sqlmodel import select
from typer.testing import CliRunner

from hub.audit.checkpoint import (
    CheckpointRefused,
    checkpoint_file,
    checkpoint_round,
    push_pending,
    run_checkpointer,
    sign_checkpoint,
    verifier_key,
)
from hub.audit.models import TreeHead
from hub.audit.notes import Checkpoint, NoteError, Signer, Verifier, open_checkpoint
from hub.cli import app as cli
from hub.settings import get_settings
from tests.audit_support import add_entries, drop_triggers, verify
from tests.event_loop import run_to_completion

# golang.org/x/mod/sumdb/note's example: our signer must reproduce it byte for byte.
GO_SEED = base64.b64encode(
    base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
).decode()
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZ"
    "SNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_signed_notes_match_the_go_reference():
    signer = Signer.from_seed("PeterNeumann", GO_SEED)
    assert signer.verifier_key == GO_VKEY
    assert signer.sign(GO_TEXT) == GO_NOTE
    assert Verifier.parse(GO_VKEY).open(GO_NOTE) == GO_TEXT


@pytest.mark.parametrize(
    "change",
    [
        lambda n: n.replace("cryptography", "cryptographY"),
        lambda n: n.replace("x08go", "x08gp"),
        lambda n: n.replace("PeterNeumann x", "PeterNeuman x"),
        lambda n: n.replace("\n\n", "\n"),
        lambda n: n[: n.index("\u2014")],
    ],
)
def test_a_changed_note_does_not_open(change):
    with pytest.raises(NoteError):
        Verifier.parse(GO_VKEY).open(change(GO_NOTE))


def test_a_verifier_key_with_a_wrong_id_is_refused():
    with pytest.raises(NoteError):
        Verifier.parse(GO_VKEY.replace("c74f20a3", "c74f20a4"))


def test_checkpoint_text_format():
    checkpoint = Checkpoint("example.org/log", 8, bytes(range(32)))
    text_ = checkpoint.text()
    assert text_ == f"example.org/log\n8\n{base64.b64encode(bytes(range(32))).decode()}\n"
    assert Checkpoint.parse(text_) == checkpoint


def test_a_head_is_signed_over_every_entry_and_only_when_there_are_new_ones(db):
    assert sign_checkpoint(db) is None
    add_entries(db, 5)
    head = sign_checkpoint(db)
    db.commit()
    assert head is not None
    assert head.tree_size == 5
    signed = open_checkpoint(head.signed_note, Verifier.parse(verifier_key()))
    assert signed.origin == get_settings().log_origin
    assert signed.root_hash.hex() == head.root_hash == verify(db).root.hex()
    assert sign_checkpoint(db) is None
    add_entries(db, 3)
    second = sign_checkpoint(db)
    db.commit()
    assert second is not None
    assert second.tree_size == 8
    report = verify(db)
    assert report.ok
    assert report.heads == 2


def test_pubkey_and_checkpoint_commands(db):
    runner = CliRunner()
    result = runner.invoke(cli, ["audit", "pubkey"])
    assert result.exit_code == 0
    assert result.output.strip() == verifier_key()
    add_entries(db, 2)
    result = runner.invoke(cli, ["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{get_settings().log_origin}\n2\n")


def test_no_head_is_signed_over_a_log_that_does_not_extend_the_last_one(db):
    add_entries(db, 4)
    sign_checkpoint(db)
    db.commit()
    add_entries(db, 2)
    drop_triggers(db)
    db.execute(text("DELETE FROM log_entry WHERE seq = 4"))
    db.commit()
    with pytest.raises(CheckpointRefused, match="missing"):
        sign_checkpoint(db)
    db.rollback()
    db.execute(text("UPDATE tree_head SET compact_range = :c"), {"c": "00" * 32})
    db.commit()
    with pytest.raises(CheckpointRefused, match="not the signed one"):
        sign_checkpoint(db)
    db.rollback()
    db.execute(text("DELETE FROM log_entry WHERE seq >= 2"))
    db.commit()
    with pytest.raises(CheckpointRefused, match="a signed head covers 4"):
        sign_checkpoint(db)


def test_the_periodic_round_signs_when_there_is_something_new_and_pushes(db, tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_CHECKPOINT_PUSH_DIR", str(tmp_path / "outside"))
    get_settings.cache_clear()
    assert checkpoint_round() is None
    add_entries(db, 3)
    head = checkpoint_round()
    assert head is not None
    assert head.tree_size == 3
    assert checkpoint_round() is None  # nothing new: no head
    assert len(db.exec(select(TreeHead)).all()) == 1
    pushed = checkpoint_file(tmp_path / "outside", 3)
    assert pushed.read_text() == head.signed_note
    db.expire_all()
    assert db.exec(select(TreeHead)).one().pushed_at is not None
    assert [p.name for p in (tmp_path / "outside").iterdir()] == ["3.checkpoint"]


def test_a_different_checkpoint_already_outside_is_a_fork(db, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("HUB_CHECKPOINT_PUSH_DIR", str(tmp_path))
    get_settings.cache_clear()
    add_entries(db, 1)
    checkpoint_file(tmp_path, 1).write_text("another note")
    checkpoint_round()
    assert "a fork" in caplog.text
    assert checkpoint_file(tmp_path, 1).read_text() == "another note"


class _Collector(http.server.BaseHTTPRequestHandler):
    received: list[bytes] = []
    fail = True

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if _Collector.fail:
            self.send_response(503)
        else:
            _Collector.received.append(body)
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_failed_push_is_logged_without_data_and_retried(db, monkeypatch, caplog):
    _Collector.fail, _Collector.received = True, []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HUB_CHECKPOINT_PUSH_URL", f"http://127.0.0.1:{server.server_port}/")
        get_settings.cache_clear()
        add_entries(db, 2)
        checkpoint_round()
        assert "not pushed (HTTPError); retrying next round" in caplog.text
        db.expire_all()
        assert db.exec(select(TreeHead)).one().pushed_at is None
        _Collector.fail = False
        assert push_pending(db) == 1
        assert _Collector.received == [db.exec(select(TreeHead)).one().signed_note.encode()]
    finally:
        server.shutdown()
        server.server_close()


def test_the_background_task_keeps_going_after_a_failed_round(caplog):
    rounds = []

    def round_():
        rounds.append(1)
        if len(rounds) == 1:
            raise RuntimeError("person 1234 could not be read")

    async def sleep(seconds):
        if len(rounds) == 3:
            raise asyncio.CancelledError
        await asyncio.sleep(0)

    with pytest.raises(asyncio.CancelledError):
        run_to_completion(run_checkpointer(10, round_, sleep))
    assert len(rounds) == 3
    assert "checkpoint round failed (RuntimeError)" in caplog.text
    assert "1234" not in caplog.text


def test_the_app_runs_the_checkpointer_while_it_serves(client):
    async def names():
        return {task.get_name() for task in asyncio.all_tasks()}

    assert "checkpointer" in client.portal.call(names)


def test_a_head_two_workers_push_at_once_is_marked_once_without_a_refusal(db):
    """Both workers find the head unpushed and push it; the later one to mark it must neither
    fail nor be refused by the trigger (on PostgreSQL a refusal counts as a tamper attempt)."""
    from sqlmodel import Session

    from hub.audit.checkpoint import mark_pushed
    from hub.audit.integrity import refused_changes

    add_entries(db, 2)
    head = sign_checkpoint(db)
    db.commit()
    assert head is not None
    refused = refused_changes(db.connection())
    db.commit()
    with Session(db.get_bind(), expire_on_commit=False) as other:
        seen_by_other = other.get(TreeHead, head.id)
        other.commit()
        assert seen_by_other is not None
        assert seen_by_other.pushed_at is None
        assert mark_pushed(db, head) is True
        assert mark_pushed(other, seen_by_other) is False
    db.expire_all()
    pushed_head = db.get(TreeHead, head.id)
    assert pushed_head is not None and pushed_head.pushed_at is not None
    assert refused_changes(db.connection()) == refused
    db.commit()
