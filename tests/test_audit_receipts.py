"""A disclosure receipt verifies offline with tools/verify_receipt.py (run as another process,
as a defender's office would) and fails after any change."""

import copy
import json
import subprocess
import sys

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from hub.audit.checkpoint import sign_checkpoint
from hub.audit.receipts import NoReceipt, build_receipt
from hub.cli import app as cli
from tests.audit_support import RECEIPT_TOOL, add_entries, verify_receipt


@pytest.fixture
def receipt(db: Session):
    add_entries(db, 7)
    sign_checkpoint(db)
    db.commit()
    return build_receipt(db, 4)


def test_a_receipt_verifies_offline(receipt, tmp_path):
    code, output = verify_receipt(tmp_path, receipt)
    origin = receipt["checkpoint"].split("\n")[0]
    assert (code, output) == (0, f"VALID: entry 4 is in the log of {origin} at tree size 7")
    assert receipt["entry"]["personal"]["person_id"] == 1004


def changed_line(note, index):
    """The note with one base64 character of line `index` changed (root, or signature)."""
    lines = note.split("\n")
    line = lines[index]
    at = len(line) - 8
    lines[index] = line[:at] + ("A" if line[at] != "A" else "B") + line[at + 1 :]
    return "\n".join(lines)


def flip_hex(value):
    return ("1" if value[0] == "0" else "0") + value[1:]


CHANGES = {
    "public field": lambda r: r["entry"]["public"].update(outcome="withheld"),
    "seq": lambda r: r["entry"]["public"].update(seq=3),
    "personal field": lambda r: r["entry"]["personal"].update(person_id=1),
    "detail": lambda r: r["entry"]["personal"]["detail"].update(extra=1),
    "salt": lambda r: r["entry"].update(salt=flip_hex(r["entry"]["salt"])),
    "personal digest": lambda r: r["entry"].update(
        personal_digest=flip_hex(r["entry"]["personal_digest"])
    ),
    "leaf index": lambda r: r.update(leaf_index=5),
    "proof node": lambda r: r["inclusion_proof"].__setitem__(0, flip_hex(r["inclusion_proof"][0])),
    "proof shortened": lambda r: r["inclusion_proof"].pop(),
    "proof lengthened": lambda r: r["inclusion_proof"].append("00" * 32),
    "tree size": lambda r: r.update(tree_size=8),
    "checkpoint size": lambda r: r.update(
        checkpoint=r["checkpoint"].replace("\n7\n", "\n8\n"), tree_size=8
    ),
    "checkpoint root": lambda r: r.update(checkpoint=changed_line(r["checkpoint"], 2)),
    "signature": lambda r: r.update(checkpoint=changed_line(r["checkpoint"], 4)),
    "signature removed": lambda r: r.update(checkpoint=r["checkpoint"].split("\u2014")[0]),
}


@pytest.mark.parametrize("what", CHANGES)
def test_a_changed_receipt_is_invalid(receipt, tmp_path, what):
    changed = copy.deepcopy(receipt)
    CHANGES[what](changed)
    code, output = verify_receipt(tmp_path, changed)
    assert code == 1
    assert output.startswith("INVALID: ")


def test_another_key_is_refused(receipt, tmp_path):
    from hub.audit.notes import Signer
    from hub.crypto import new_signing_key

    other = Signer.from_seed(receipt["checkpoint"].split("\n")[0], new_signing_key()).verifier_key
    path = tmp_path / "r.json"
    path.write_text(json.dumps(receipt | {"verifier_key": None}))
    result = subprocess.run(
        [sys.executable, str(RECEIPT_TOOL), str(path), "--key", other],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "not signed by the given key" in result.stdout


def test_consistency_with_an_older_checkpoint(db, tmp_path):
    add_entries(db, 3)
    older = sign_checkpoint(db)
    db.commit()
    assert older is not None
    add_entries(db, 4)
    sign_checkpoint(db)
    db.commit()
    receipt = build_receipt(db, 1)
    db.commit()  # SQLite: end the read transaction (hub.db begins them IMMEDIATE)
    (tmp_path / "older").write_text(older.signed_note)
    runner = CliRunner()
    result = runner.invoke(cli, ["audit", "consistency", "3", "7"])
    assert result.exit_code == 0
    (tmp_path / "proof.json").write_text(result.output)
    args = ["--older", str(tmp_path / "older"), "--consistency", str(tmp_path / "proof.json")]
    assert verify_receipt(tmp_path, receipt, *args)[0] == 0
    proof = json.loads(result.output)
    proof[0] = flip_hex(proof[0])
    (tmp_path / "proof.json").write_text(json.dumps(proof))
    code, output = verify_receipt(tmp_path, receipt, *args)
    assert code == 1
    assert "does not extend" in output


def test_no_receipt_before_a_checkpoint_covers_the_entry(db):
    add_entries(db, 2)
    with pytest.raises(NoReceipt):
        build_receipt(db, 1)
    with pytest.raises(NoReceipt):
        build_receipt(db, 9)


def test_the_receipt_command_logs_that_a_receipt_was_issued(db):
    add_entries(db, 2)
    sign_checkpoint(db)
    db.commit()
    result = CliRunner().invoke(cli, ["audit", "receipt", "1"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["leaf_index"] == 1
    from hub.audit.models import LogEntry

    db.expire_all()
    assert db.get(LogEntry, 2).tag == "audit:receipt:issued"
