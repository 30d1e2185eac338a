"""Helpers for the audit log tests: append entries, sign heads, drop the guarding triggers (to
play an attacker with the database owner's rights), recompute an entry's hashes."""

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import Session

from hub.audit.checkpoint import sign_checkpoint, verifier_key
from hub.audit.integrity import POSTGRES_TRIGGERS, SQLITE_TRIGGERS
from hub.audit.log import (
    Actor,
    Event,
    append,
    canonical_json,
    leaf_hash,
    personal_digest,
    timestamp,
)
from hub.audit.models import LogEntry
from hub.audit.notes import Verifier
from hub.audit.verify import Report, verify_log
from hub.settings import PROJECT_ROOT
from hub.vocabulary import Category, LogKind, LogOutcome, Purpose, Role

RECEIPT_TOOL = PROJECT_ROOT / "tools" / "verify_receipt.py"


def engine_of(db: Session) -> Engine:
    """The engine a test's session is bound to (the fixtures bind sessions to engines)."""
    bind = db.get_bind()
    assert isinstance(bind, Engine)
    return bind


def detail_of(entry: LogEntry) -> dict[str, Any]:
    """An entry's detail, which every entry a test looks into carries."""
    assert entry.detail is not None, f"log entry {entry.seq} has no detail"
    return entry.detail


def disclosure(n: int) -> tuple[Actor, Event]:
    actor = Actor(
        user_id=100 + n % 7,
        role=Role.case_manager,
        agency_id=3,
        request_id=f"req-{n}",
        address=f"10.0.0.{n % 250}",
    )
    event = Event(
        kind=LogKind.disclosure,
        tag="disclosure:client:read",
        outcome=LogOutcome.disclosed,
        purpose=Purpose.case_management,
        person_id=1000 + n,
        categories=[Category.identity, Category.engagement],
        policy_version="test-1",
        detail={"basis": {"identity": "role", "engagement": f"consent:{n}"}, "note": 'é\n"q"'},
    )
    return actor, event


def add_entries(db: Session, count: int, heads_every: int | None = None) -> None:
    """Append `count` disclosures, committing each; sign a head every `heads_every` entries."""
    for n in range(count):
        append(db, *disclosure(n))
        db.commit()
        if heads_every and (n + 1) % heads_every == 0:
            sign_checkpoint(db)
            db.commit()


def verify(db: Session) -> Report:
    return verify_log(engine_of(db), Verifier.parse(verifier_key()))


def drop_triggers(db: Session) -> None:
    if db.get_bind().dialect.name == "postgresql":
        for table in ("log_entry", "tree_head", "log_retention"):
            names = db.execute(
                text(
                    "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                    "AND tgrelid = CAST(:t AS regclass)"
                ),
                {"t": table},
            ).scalars()
            for name in list(names):
                assert name in POSTGRES_TRIGGERS
                db.execute(text(f'DROP TRIGGER "{name}" ON {table}'))
    else:
        for name in SQLITE_TRIGGERS:
            db.execute(text(f"DROP TRIGGER {name}"))
    db.commit()


def row(db: Session, seq: int) -> dict[str, Any]:
    db.expire_all()
    entry = db.get(LogEntry, seq)
    assert entry is not None
    return entry.model_dump()


def rehash(values: dict[str, Any]) -> dict[str, str]:
    """personal_digest and leaf_hash as an attacker would recompute them for altered values."""
    personal = {
        k: values[k] for k in ("actor_user_id", "person_id", "request_id", "address", "detail")
    }
    digest = personal_digest(values["salt"], personal)
    public = {
        k: values[k]
        for k in (
            "seq",
            "kind",
            "tag",
            "outcome",
            "purpose",
            "actor_role",
            "actor_agency_id",
            "categories",
            "policy_version",
        )
    }
    recorded = values["recorded_at"]
    public["recorded_at"] = timestamp(recorded) if isinstance(recorded, datetime) else recorded
    leaf = leaf_hash(canonical_json({**public, "personal_digest": digest}))
    return {"personal_digest": digest, "leaf_hash": leaf}


def verify_receipt(tmp_path: Path, receipt: dict[str, Any], *extra: str) -> tuple[int, str]:
    """Runs the standalone tools/verify_receipt.py on a receipt, as a third party would: its
    exit code and what it printed."""
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt))
    result = subprocess.run(
        [sys.executable, str(RECEIPT_TOOL), str(path), "--key", verifier_key(), *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode, result.stdout.strip()
