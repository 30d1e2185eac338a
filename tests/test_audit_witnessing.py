"""The hub's side of witnessing (hub.audit.witnessing): each new checkpoint goes to the
witnesses of HUB_WITNESSES with a consistency proof from the size each last cosigned; their
cosignatures are kept and carried by receipts (checked, k of n, by tools/verify_receipt.py);
a witness that holds another tree of the log's size (split view) or a larger one (rollback)
is reported in the log and flagged; a witness that is down does not stop the checkpointer."""

import json
import socket
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select
from typer.testing import CliRunner

from hub.audit.checkpoint import checkpoint_round
from hub.audit.models import LogEntry, WitnessCosignature
from hub.audit.receipts import build_receipt
from hub.audit.witnessing import checkpoint_and_witness_round, post_checkpoint, witness_round
from hub.cli import app as cli
from hub.privacy.flags.computing import find
from hub.settings import get_settings
from hub.vocabulary import FlagRule, SecurityEventTag
from hub.witness.cosignature import cosigner_key
from tests.audit_support import add_entries, verify_receipt
from tests.witness_support import add_request, running_witness, scratch_leaves, witness_signer


@pytest.fixture
def witnesses(tmp_path, monkeypatch):
    with (
        running_witness(tmp_path / "w1", "defender.example/witness", 1) as first,
        running_witness(tmp_path / "w2", "oversight.example/witness", 2) as second,
    ):
        monkeypatch.setenv("HUB_WITNESSES", json.dumps([first.config(), second.config()]))
        get_settings.cache_clear()
        yield first, second
    get_settings.cache_clear()


def refusals(db):
    found = db.exec(
        select(LogEntry).where(LogEntry.tag == SecurityEventTag.witness_refused.value)
    ).all()
    db.commit()  # on SQLite a transaction holds the write lock the next round needs
    return found


def flip(line):
    """The line with one base64 character of its signature changed."""
    at = len(line) - 20
    return line[:at] + ("A" if line[at] != "A" else "B") + line[at + 1 :]


def test_checkpoints_are_cosigned_and_receipts_carry_k_of_n(db, witnesses, tmp_path):
    first, second = witnesses
    add_entries(db, 5)
    head = checkpoint_and_witness_round()
    assert head is not None and head.tree_size == 5
    add_entries(db, 3)
    checkpoint_round()
    # The second checkpoint goes with a consistency proof from 5, the size each cosigned.
    assert witness_round() == {first.name: "cosigned", second.name: "cosigned"}
    assert witness_round() == {first.name: "current", second.name: "current"}
    origin = get_settings().log_origin
    assert first.witness.state.held(origin).tree_size == 8
    rows = db.exec(select(WitnessCosignature)).all()
    assert sorted((r.witness, r.cosigned_at.year) for r in rows) == [
        (first.name, 2026),
        (first.name, 2026),
        (second.name, 2026),
        (second.name, 2026),
    ]
    receipt = build_receipt(db, 6)
    assert receipt["tree_size"] == 8 and len(receipt["cosignatures"]) == 2

    both = ["--witness", first.key, "--witness", second.key]
    code, output = verify_receipt(tmp_path, receipt, *both)
    assert code == 0, output
    assert output.endswith(f"cosigned by 2 witness(es): {first.name}, {second.name}")
    # k of n: one of two named witnesses suffices when one is asked for, not when two are.
    with running_witness(tmp_path / "w3", "absent.example/witness", 3) as third:
        one_of_two = ["--witness", first.key, "--witness", third.key]
        assert verify_receipt(tmp_path, receipt, *one_of_two, "--min-witnesses", "1")[0] == 0
        code, output = verify_receipt(tmp_path, receipt, *one_of_two)
        assert (code, output) == (
            1,
            f"INVALID: cosigned by 1 of the named witnesses ({first.name}), 2 required",
        )
    # A cosignature altered does not count: the receipt is refused.
    altered = dict(receipt, cosignatures=[flip(c) for c in receipt["cosignatures"]])
    code, output = verify_receipt(tmp_path, altered, *both, "--min-witnesses", "1")
    assert (code, output) == (1, f"INVALID: the cosignature by {first.name} is not valid")
    # A newer head not yet cosigned: an entry it alone covers gets it, without cosignatures;
    # an older entry keeps the cosigned head.
    add_entries(db, 2)
    checkpoint_round()
    assert (build_receipt(db, 9)["tree_size"], build_receipt(db, 9)["cosignatures"]) == (10, [])
    assert build_receipt(db, 6)["tree_size"] == 8


def test_a_split_view_is_refused_by_the_witness_and_reported_by_the_hub(db, witnesses):
    """The witness already cosigned another tree of 4 entries signed with the hub's key (a
    scratch log: the view shown to someone else); the hub's own tree of 4 is refused, and the
    hub writes the refusal to the log, once, where the privacy console flags it."""
    first, second = witnesses
    reply = post_checkpoint(first.url, add_request(0, scratch_leaves(4)))
    assert reply.status == 200
    add_entries(db, 4)
    checkpoint_round()
    assert witness_round() == {first.name: "refused", second.name: "cosigned"}
    (event,) = refusals(db)
    assert event.outcome == "failure"
    assert event.detail == {
        "witness": first.name,
        "url": first.url,
        "refused": "split_view",
        "witness_size": 4,
        "tree_size": 4,
    }
    assert [status for status, _, _ in first.witness.state.refusals(get_settings().log_origin)] == [
        422
    ]
    assert witness_round()[first.name] == "refused"
    assert len(refusals(db)) == 1  # reported once, not every round
    findings = [
        f
        for f in find(db, event.recorded_at - timedelta(hours=1), now=event.recorded_at)
        if f.rule == FlagRule.witness_refused
    ]
    assert [f.log_seqs for f in findings] == [[event.seq]]
    assert "a split view" in findings[0].reason


def test_a_rolled_back_log_is_refused_and_reported(db, witnesses):
    """The witness cosigned 10 entries of this log; the database now holds 6 (restored from an
    older backup): the witness will not go back, and the hub says so."""
    first, _ = witnesses
    assert post_checkpoint(first.url, add_request(0, scratch_leaves(10))).status == 200
    add_entries(db, 6)
    checkpoint_round()
    assert witness_round()[first.name] == "refused"
    (event,) = refusals(db)
    assert (event.detail["refused"], event.detail["witness_size"]) == ("rollback", 10)
    ((status, _, request),) = first.witness.state.refusals(get_settings().log_origin)
    assert status == 409 and "\n6\n" in request  # the smaller signed tree, kept as evidence
    findings = find(db, event.recorded_at - timedelta(hours=1), now=event.recorded_at)
    (flag,) = [f for f in findings if f.rule == FlagRule.witness_refused]
    assert "a rollback" in flag.reason


def test_a_witness_that_is_down_does_not_stop_the_checkpointer(db, monkeypatch, caplog):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    key = cosigner_key(witness_signer("x.example/w", 5))
    monkeypatch.setenv(
        "HUB_WITNESSES", json.dumps([{"url": f"http://127.0.0.1:{port}", "key": key}])
    )
    get_settings.cache_clear()
    add_entries(db, 2)
    head = checkpoint_and_witness_round()
    assert head is not None and head.tree_size == 2
    assert "witness x.example/w not reached (URLError); retrying next round" in caplog.text
    assert refusals(db) == []
    assert db.exec(select(WitnessCosignature)).all() == []


def test_the_checkpoint_command_asks_the_witnesses(db, witnesses):
    first, second = witnesses
    add_entries(db, 3)
    result = CliRunner().invoke(cli, ["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    assert f"witness {first.name}: cosigned" in result.output
    assert f"witness {second.name}: cosigned" in result.output
    assert second.witness.state.held(get_settings().log_origin).tree_size == 3


def test_one_app_process_at_a_time_asks_the_witnesses(db, witnesses):
    """On PostgreSQL another process holding the witnesses' lock means this one skips the
    round (the holder asks them); SQLite serves one host and asks."""
    first, second = witnesses
    add_entries(db, 2)
    checkpoint_round()
    engine = db.get_bind()
    postgres = engine.dialect.name == "postgresql"
    asked = {first.name: "cosigned", second.name: "cosigned"}
    with engine.connect() as other:
        if postgres:
            other.execute(text("SELECT pg_advisory_lock(6964)"))
        assert witness_round() == ({} if postgres else asked)
        if postgres:
            other.execute(text("SELECT pg_advisory_unlock(6964)"))
    # The lock released (or, on SQLite, the witnesses already cosigned that head):
    again = asked if postgres else {first.name: "current", second.name: "current"}
    assert witness_round() == again
