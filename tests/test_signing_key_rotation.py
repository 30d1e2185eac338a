"""The checkpoint signing key rotates (issue 18, item 6): the old key and the new sign a
statement announcing the new one; afterwards the new key signs, checkpoints and receipts of
the old key still verify (`hub audit verify`, tools/verify_receipt.py), the statement is served
at /log/key-rotations and logged as a security event, and a checkpoint signed by a key no
statement announced is refused."""

import base64
import json
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from hub.audit.checkpoint import (
    CheckpointRefused,
    latest_head,
    sign_checkpoint,
    signer,
    trusted_verifier,
)
from hub.audit.key_rotation import rotate_signing_key
from hub.audit.log import Actor
from hub.audit.models import SigningKeyRotation, TreeHead
from hub.audit.notes import Checkpoint, NoteError, Signer, open_checkpoint
from hub.audit.receipts import build_receipt
from hub.audit.signing_keys import announced_keys, open_rotation, rotation_text
from hub.audit.verify import verify_log
from hub.cli import app as cli
from hub.settings import get_settings
from hub.vocabulary import SecurityEventTag
from tests.audit_support import RECEIPT_TOOL, add_entries, engine_of
from tests.signing_in import logged

OLD = base64.b64encode(bytes([1]) * 32).decode()
NEW = base64.b64encode(bytes([2]) * 32).decode()
STRANGER = base64.b64encode(bytes([3]) * 32).decode()


def _vkey(seed: str) -> str:
    return Signer.from_seed(get_settings().log_origin, seed).verifier_key


def _check_receipt(tmp_path, receipt, key, *extra):
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt))
    result = subprocess.run(
        [sys.executable, str(RECEIPT_TOOL), str(path), "--key", key, *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode, result.stdout.strip()


@pytest.fixture
def rotated(db: Session, settings_env, tmp_path):
    """A log signed by OLD, then OLD -> NEW announced, then more entries signed by NEW."""
    settings_env(log_signing_key=OLD, checkpoint_push_dir=tmp_path / "pushed")
    add_entries(db, 5)
    sign_checkpoint(db)
    db.commit()
    old_receipt = build_receipt(db, 2)
    old_head = latest_head(db)
    assert old_head is not None
    old_note = old_head.signed_note
    db.commit()
    settings_env(log_signing_key=f"{NEW},{OLD}")
    rotation = rotate_signing_key(engine_of(db), Actor())
    # The operator keeps only the new seed once the statement exists.
    settings_env(log_signing_key=NEW)
    add_entries(db, 4)
    sign_checkpoint(db)
    db.commit()
    return rotation, old_receipt, old_note


def test_old_and_new_checkpoints_verify_after_a_rotation(db, rotated, tmp_path):
    rotation, _, old_note = rotated
    assert open_rotation(rotation.statement).new_key == _vkey(NEW)
    assert rotation.old_key == _vkey(OLD)
    assert rotation.tree_size == 5
    heads = db.exec(select(TreeHead).order_by(col(TreeHead.tree_size))).all()
    db.commit()
    assert [h.tree_size for h in heads] == [5, 10]
    # The old key signed the first head, the new key the one after the rotation.
    assert open_checkpoint(heads[-1].signed_note, trusted_verifier(db)).tree_size == 10
    assert signer().verifier_key == _vkey(NEW)
    report = verify_log(db.get_bind(), trusted_verifier(db))
    assert report.problems == []
    assert report.heads == 2
    assert open_checkpoint(old_note, trusted_verifier(db)).tree_size == 5
    # Written beside the pushed checkpoints, and logged.
    assert (tmp_path / "pushed" / "key-rotation-5.note").read_text() == rotation.statement
    assert logged(db, SecurityEventTag.log_signing_key_rotated, new_key=_vkey(NEW))
    assert db.exec(select(SigningKeyRotation)).one().new_key == _vkey(NEW)
    db.commit()


def test_hub_audit_verify_passes_after_a_rotation(db, rotated):
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "tree heads checked: 2" in result.output


def test_receipts_verify_with_the_old_key_or_the_new(db, rotated, tmp_path):
    _, old_receipt, _ = rotated
    new_receipt = build_receipt(db, 7)
    db.commit()
    assert new_receipt["key_rotations"] and new_receipt["verifier_key"] == _vkey(NEW)
    for key in (_vkey(OLD), _vkey(NEW)):
        code, output = _check_receipt(tmp_path, new_receipt, key)
        assert code == 0, output
    assert _check_receipt(tmp_path, old_receipt, _vkey(OLD))[0] == 0
    # A receipt from before the rotation, checked with the new key: the checker brings the
    # rotations the hub serves (/log/key-rotations).
    assert _check_receipt(tmp_path, old_receipt, _vkey(NEW))[0] == 1
    served = tmp_path / "rotations.json"
    served.write_text(json.dumps({"rotations": new_receipt["key_rotations"]}))
    code, output = _check_receipt(tmp_path, old_receipt, _vkey(NEW), "--rotations", str(served))
    assert code == 0, output
    # Without the rotation statement, a checker trusting the old key refuses the new checkpoint.
    bare = {**new_receipt, "key_rotations": []}
    code, output = _check_receipt(tmp_path, bare, _vkey(OLD))
    assert code == 1 and "INVALID" in output


def test_a_checkpoint_by_an_unannounced_key_is_refused(db, rotated, settings_env, tmp_path):
    stranger = Signer.from_seed(get_settings().log_origin, STRANGER)
    head = latest_head(db)
    db.commit()
    assert head is not None
    forged = stranger.sign(
        Checkpoint(stranger.name, head.tree_size, bytes.fromhex(head.root_hash)).text()
    )
    with pytest.raises(NoteError):
        open_checkpoint(forged, trusted_verifier(db))
    # A statement the stranger alone signed announces nothing.
    text = rotation_text(stranger.name, _vkey(NEW), stranger.verifier_key, head.tree_size)
    assert announced_keys(_vkey(NEW), [stranger.sign(text)]) == [_vkey(NEW)]
    # Nor may the hub sign with a key it never announced: the last head would not open.
    settings_env(log_signing_key=STRANGER)
    add_entries(db, 1)
    with pytest.raises(CheckpointRefused):
        sign_checkpoint(db)
    db.rollback()
    # And a receipt whose checkpoint the stranger signed is refused by the checker.
    receipt = build_receipt(db, 1)
    db.commit()
    receipt["checkpoint"] = forged
    code, output = _check_receipt(tmp_path, receipt, _vkey(OLD))
    assert code == 1 and "INVALID" in output


def test_the_rotation_is_served_and_the_new_checkpoint_too(db, rotated, app):
    rotation, _, _ = rotated
    with TestClient(app, base_url="https://testserver") as web:
        assert web.get("/log/key-rotations").json() == {"rotations": [rotation.statement]}
        served = web.get("/log/checkpoint").text
    assert open_checkpoint(served, trusted_verifier(db)).tree_size == 10
    db.commit()


def test_a_rotation_needs_the_new_seed_in_front(db, settings_env):
    settings_env(log_signing_key=OLD)
    with pytest.raises(NoteError):
        rotate_signing_key(db.get_bind(), Actor())
    settings_env(log_signing_key=f"{OLD},{OLD}")
    with pytest.raises(NoteError):
        rotate_signing_key(db.get_bind(), Actor())
