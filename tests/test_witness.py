"""The witness (c2sp.org/tlog-witness, `hub witness`): it cosigns a checkpoint of a log it
trusts only with a valid consistency proof from the last one it cosigned, and refuses a
rollback, a second tree of one size (a split view), a bad proof and an unknown log or key."""

import base64
import hashlib
import os
import subprocess
import sys
import urllib.request

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from hub.audit.checkpoint import verifier_key
from hub.audit.notes import Signer, Verifier
from hub.cli import app as cli
from hub.settings import PROJECT_ROOT, Settings, get_settings
from hub.witness.cosignature import (
    cosigned_message,
    cosigner_key,
    open_cosignature,
    parse_cosigner_key,
)
from hub.witness.keys import load_key
from tests.witness_support import (
    NOW,
    add_request,
    running_witness,
    scratch_leaves,
    scratch_note,
    witness_signer,
)


@pytest.fixture
def witness(tmp_path):
    with running_witness(tmp_path / "witness", "defender.example/witness", 7) as running:
        yield running


def post(witness, body):
    request = urllib.request.Request(f"{witness.url}/add-checkpoint", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def test_a_first_checkpoint_is_cosigned_and_the_cosignature_verifies(witness):
    leaves = scratch_leaves(5)
    status, _, body = post(witness, add_request(0, leaves))
    assert status == 200
    assert body.startswith("\u2014 defender.example/witness ") and body.endswith("\n")
    note = scratch_note(leaves)
    cosignature = open_cosignature(note + body, parse_cosigner_key(witness.key))
    assert cosignature is not None and cosignature.timestamp == NOW
    # cosignature/v1: the header, the time, then the checkpoint's text.
    text = note[: note.index("\n\n") + 1]
    assert cosigned_message(text, NOW) == f"cosignature/v1\ntime {NOW}\n{text}".encode()


def test_the_next_checkpoint_needs_a_consistency_proof_from_the_size_cosigned(witness):
    assert post(witness, add_request(0, scratch_leaves(5)))[0] == 200
    grown = scratch_leaves(13)
    assert post(witness, add_request(5, grown))[0] == 200
    # The old size must be the one the witness holds: it answers which (tlog-witness 409).
    status, content_type, body = post(witness, add_request(5, scratch_leaves(20)))
    assert (status, content_type, body) == (409, "text/x.tlog.size", "13\n")
    # The same tree again, from the size held, is cosigned again.
    assert post(witness, add_request(13, grown))[0] == 200


def test_a_bad_proof_is_refused(witness):
    assert post(witness, add_request(0, scratch_leaves(5)))[0] == 200
    request = add_request(5, scratch_leaves(9)).decode()
    lines = request.split("\n")
    lines[1] = base64.b64encode(b"\x00" * 32).decode()
    assert post(witness, "\n".join(lines).encode())[0] == 422
    # A tree of 9 that does not hold the 5 leaves cosigned: refused, whatever the proof says.
    assert post(witness, add_request(5, scratch_leaves(9, seed="other")))[0] == 422


def test_a_split_view_is_refused_and_kept_as_evidence(witness):
    """Two trees of one size, both signed by the log: the witness cosigns the first only."""
    assert post(witness, add_request(0, scratch_leaves(6)))[0] == 200
    other = scratch_leaves(6, seed="the other view")
    status, _, body = post(witness, add_request(6, other))
    assert status == 422
    assert "not consistent with the tree of size 6" in body
    origin = Verifier.parse(verifier_key()).name
    ((kept_status, _, request),) = witness.witness.state.refusals(origin)
    assert kept_status == 422 and scratch_note(other) in request
    assert witness.witness.state.held(origin).tree_size == 6


def test_a_rollback_is_refused(witness):
    assert post(witness, add_request(0, scratch_leaves(10)))[0] == 200
    smaller = scratch_leaves(4)
    assert post(witness, add_request(0, smaller))[:3] == (409, "text/x.tlog.size", "10\n")
    without_proof = b"old 10\n\n" + scratch_note(smaller).encode()
    assert post(witness, without_proof)[0] == 400  # an old size above the checkpoint's
    origin = Verifier.parse(verifier_key()).name
    assert witness.witness.state.held(origin).tree_size == 10


def test_an_unknown_log_or_key_is_refused(witness):
    stranger = witness_signer(get_settings().log_origin, 9)  # the hub's origin, not its key
    assert post(witness, add_request(0, scratch_leaves(3), stranger))[0] == 403
    elsewhere = Signer.from_seed("elsewhere.example/log", base64.b64encode(b"\x01" * 32).decode())
    assert post(witness, add_request(0, scratch_leaves(3), elsewhere))[0] == 404
    signed = add_request(0, scratch_leaves(3))
    forged = signed[:-10] + (b"A" if signed[-10:-9] != b"A" else b"B") + signed[-9:]
    assert post(witness, forged)[0] == 403
    assert post(witness, b"old 01\n\n" + scratch_note(scratch_leaves(1)).encode())[0] == 400


def test_the_witness_serves_its_newest_cosigned_checkpoint(witness):
    leaves = scratch_leaves(4)
    post(witness, add_request(0, leaves))
    origin = Verifier.parse(verifier_key()).name
    digest = hashlib.sha256(origin.encode()).hexdigest()
    with urllib.request.urlopen(f"{witness.url}/{digest}/checkpoint", timeout=5) as response:
        note = response.read().decode()
    assert note.startswith(scratch_note(leaves))
    assert open_cosignature(note, parse_cosigner_key(witness.key)) is not None


def test_keygen_writes_a_private_key_file_once(tmp_path):
    runner = CliRunner()
    state = tmp_path / "state"
    made = runner.invoke(
        cli, ["witness", "keygen", "--state", str(state), "--name", "ob.example/w"]
    )
    assert made.exit_code == 0, made.output
    assert (state / "witness.key").stat().st_mode & 0o777 == 0o600
    assert (
        made.output.strip()
        == runner.invoke(cli, ["witness", "pubkey", "--state", str(state)]).output.strip()
    )
    assert parse_cosigner_key(made.output).name == "ob.example/w"
    assert load_key(state, {}).name == "ob.example/w"
    again = runner.invoke(
        cli, ["witness", "keygen", "--state", str(state), "--name", "x.example/w"]
    )
    assert again.exit_code == 2 and "exists" in again.output


def test_hub_witness_serve_runs_as_its_own_process(tmp_path):
    """As an office would run it: its own key file and state, no hub database or secrets."""
    state = tmp_path / "state"
    made = CliRunner().invoke(
        cli, ["witness", "keygen", "--state", str(state), "--name", "ob.example/w"]
    )
    environment = {"PATH": os.environ["PATH"]}  # none of the hub's settings
    serve = ["witness", "serve", "--state", str(state), "--port", "0", "--log", verifier_key()]
    process = subprocess.Popen(
        [sys.executable, "-m", "hub", *serve],
        cwd=PROJECT_ROOT,
        env=environment,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    try:
        started = process.stderr.readline()
        assert started.startswith(f"witness {made.output.strip()} on http://127.0.0.1:")
        url = started.split(" on ")[1].strip().rstrip("/")
        request = urllib.request.Request(
            f"{url}/add-checkpoint", data=add_request(0, scratch_leaves(3)), method="POST"
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            line = response.read().decode()
        note = scratch_note(scratch_leaves(3)) + line
        assert open_cosignature(note, parse_cosigner_key(made.output)) is not None
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()
    assert (state / "witness.db").exists()


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        '{"url": "http://w.example", "key": "x"}',
        '[{"url": "ftp://w.example", "key": "KEY"}]',
        '[{"url": "http://w.example", "key": "w.example+00000000+AAAA"}]',
        '[{"url": "http://w.example", "key": "KEY", "name": "w"}]',
    ],
)
def test_a_malformed_witness_list_is_refused_at_start_up(value):
    value = value.replace("KEY", cosigner_key(witness_signer("w.example/w", 4)))
    with pytest.raises(ValidationError, match="witnesses"):
        Settings(witnesses=value)
    good = f'[{{"url": "https://w.example/", "key": "{cosigner_key(witness_signer("w", 4))}"}}]'
    assert Settings(witnesses=good).witness_list[0][0] == "https://w.example/"
