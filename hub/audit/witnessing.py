"""Witnesses (c2sp.org/tlog-witness): after a checkpoint is signed, each witness of
HUB_WITNESSES is sent the newest one with an RFC 6962 consistency proof from the size it last
cosigned; its cosignature is checked and kept (table witness_cosignature), and receipts carry it.

A witness runs on another organisation's machine with its own key (`hub witness serve`). It
cosigns only a tree that extends the last one it cosigned, so a hub that shows one tree to some
and another tree of the same size to others (a split view), or that lost entries (a database
rolled back), cannot get its cosignature. A refusal of that kind is written to the log as a
security event (audit:witness:refused) and flagged for the privacy console. A witness that is
down or slow (5-second timeout) is logged and tried again next round; this runs in the
checkpointer's worker thread, never in a request.
"""

import http.client
import logging
import urllib.error
import urllib.request
from base64 import b64encode
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, text
from sqlmodel import Session, col, select

from hub.audit.checkpoint import CheckpointRefused, checkpoint_round, latest_head, proof_nodes
from hub.audit.log import Actor, Event, append
from hub.audit.merkle import consistency_proof
from hub.audit.models import LogEntry, TreeHead, WitnessCosignature
from hub.audit.notes import NoteError, Verifier
from hub.audit.tiles import TilesMissing
from hub.db import get_engine, ident, utcnow
from hub.settings import Settings, get_settings
from hub.vocabulary import LogKind, LogOutcome, SecurityEventTag
from hub.witness.cosignature import open_cosignature, parse_cosigner_key

log = logging.getLogger("hub.audit")

TIMEOUT_SECONDS = 5
# Names the advisory lock that lets one app process at a time ask the witnesses.
_WITNESS_LOCK_ID = 6964


@dataclass(frozen=True)
class WitnessConfig:
    url: str
    key: Verifier

    @property
    def name(self) -> str:
        return self.key.name


def configured_witnesses(settings: Settings | None = None) -> list[WitnessConfig]:
    settings = settings or get_settings()
    return [WitnessConfig(url, parse_cosigner_key(key)) for url, key in settings.witness_list]


@dataclass(frozen=True)
class Reply:
    status: int
    body: str


def post_checkpoint(url: str, body: bytes) -> Reply:
    """POST <url>/add-checkpoint; an HTTP error status is a Reply, a network failure OSError."""
    if not url.startswith(("https://", "http://")):
        raise ValueError("a witness's url is http(s)")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url.rstrip("/") + "/add-checkpoint",
        data=body,
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return Reply(response.status, response.read(64 * 1024).decode())
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.read(64 * 1024).decode(errors="replace"))


def request_body(old_size: int, proof: list[bytes], note: str) -> bytes:
    lines = [f"old {old_size}", *(b64encode(node).decode() for node in proof)]
    return ("\n".join(lines) + "\n\n" + note).encode()


def last_cosigned_size(db: Session, witness: WitnessConfig) -> int:
    size = db.exec(
        select(func.max(TreeHead.tree_size))
        .join(WitnessCosignature, col(WitnessCosignature.tree_head_id) == col(TreeHead.id))
        .where(
            WitnessCosignature.witness == witness.name,
            WitnessCosignature.key_id == witness.key.key_id.hex(),
        )
    ).one()
    return int(size or 0)


def cosignatures(db: Session, head: TreeHead) -> list[str]:
    """The cosignature lines kept for a head, one per witness key."""
    rows = db.exec(
        select(WitnessCosignature)
        .where(WitnessCosignature.tree_head_id == head.id)
        .order_by(col(WitnessCosignature.witness), col(WitnessCosignature.id))
    ).all()
    seen: dict[tuple[str, str], str] = {}
    for row in rows:
        seen.setdefault((row.witness, row.key_id), row.signature)
    return list(seen.values())


class WitnessRefusal(Exception):
    """A witness refused the checkpoint because the log is not the one it saw grow."""

    def __init__(self, detail: dict[str, Any]) -> None:
        super().__init__(detail["refused"])
        self.detail = detail


def _send(
    engine: Engine, witness: WitnessConfig, head: TreeHead, old_size: int, post: Any
) -> Reply:
    # The proof is read in a short transaction of its own: no database lock is held while the
    # witness is asked (on SQLite a transaction holds the write lock every disclosure needs).
    with Session(engine) as db:
        proof = consistency_proof(old_size, head.tree_size, proof_nodes(db, head.tree_size))
        db.rollback()
    return post(witness.url, request_body(old_size, proof, head.signed_note))


def witness_head(
    engine: Engine,
    witness: WitnessConfig,
    head: TreeHead,
    old_size: int,
    post: Any = post_checkpoint,
) -> WitnessCosignature | None:
    """Ask one witness to cosign `head` with a proof from `old_size` (the size it last
    cosigned); its cosignature, checked, or None, logged, if it could not be asked or answered
    otherwise. WitnessRefusal if it holds another tree than this log's (split view) or a larger
    one (rollback)."""
    reply = _send(engine, witness, head, old_size, post)
    if reply.status == 409:
        # The witness holds another size than we last saw it cosign (it lost our last answer, or
        # the hub's database was restored): it says which, and we prove from there.
        try:
            held = int(reply.body.strip())
        except ValueError:
            log.warning("witness %s answered 409 without a size", witness.name)
            return None
        if held > head.tree_size:
            raise WitnessRefusal(
                {"refused": "rollback", "witness_size": held, "tree_size": head.tree_size}
            )
        old_size = held
        reply = _send(engine, witness, head, old_size, post)
    if reply.status == 422:
        raise WitnessRefusal(
            {
                "refused": "split_view" if old_size == head.tree_size else "not_consistent",
                "witness_size": old_size,
                "tree_size": head.tree_size,
            }
        )
    if reply.status != 200:
        log.warning(
            "witness %s refused the checkpoint of size %d with status %d",
            witness.name,
            head.tree_size,
            reply.status,
        )
        return None
    try:
        cosignature = open_cosignature(head.signed_note + reply.body, witness.key)
    except NoteError as exc:
        log.error("witness %s answered an invalid cosignature: %s", witness.name, exc)
        return None
    if cosignature is None:
        log.error("witness %s answered no cosignature by its key", witness.name)
        return None
    return WitnessCosignature(
        tree_head_id=ident(head.id),
        witness=cosignature.witness,
        key_id=cosignature.key_id,
        signature=cosignature.line,
        cosigned_at=datetime.fromtimestamp(cosignature.timestamp, UTC),
        received_at=utcnow(),
    )


def _already_reported(db: Session, detail: dict[str, Any]) -> bool:
    """Whether the newest refusal by this witness says the same (one event per refusal, not one
    per round while it lasts)."""
    last = db.exec(
        select(LogEntry.detail)
        .where(LogEntry.tag == SecurityEventTag.witness_refused.value)
        .where(col(LogEntry.erased_at).is_(None))
        .order_by(col(LogEntry.seq).desc())
        .limit(50)
    ).all()
    same = ("witness", "refused", "witness_size")
    for earlier in last:
        if earlier and earlier.get("witness") == detail["witness"]:
            return all(earlier.get(k) == detail[k] for k in same)
    return False


def report_refusal(db: Session, witness: WitnessConfig, refusal: WitnessRefusal) -> bool:
    """Write the refusal to the log as a security event, once; returns whether it was new. The
    caller commits."""
    detail = {"witness": witness.name, "url": witness.url, **refusal.detail}
    log.error(
        "witness %s refused the checkpoint of size %d: %s (it holds size %d)",
        witness.name,
        detail["tree_size"],
        detail["refused"],
        detail["witness_size"],
    )
    if _already_reported(db, detail):
        return False
    append(
        db,
        Actor(),
        Event(
            kind=LogKind.security,
            tag=SecurityEventTag.witness_refused,
            outcome=LogOutcome.failure,
            detail=detail,
        ),
    )
    return True


def witness_round(
    engine: Engine | None = None, settings: Settings | None = None, post: Any = post_checkpoint
) -> dict[str, str]:
    """Send the newest head to every witness that has not cosigned it. Returns what each did:
    cosigned, current, refused, or failed (each failure is logged and retried next round)."""
    engine = engine or get_engine()
    witnesses = configured_witnesses(settings)
    if not witnesses:
        return {}
    with _one_process(engine) as alone:
        if not alone:
            return {}  # another app process is asking them now
        return _ask_each(engine, witnesses, post)


@contextmanager
def _one_process(engine: Engine) -> Iterator[bool]:
    """On PostgreSQL, a session advisory lock (no transaction stays open while witnesses are
    asked) so that app processes do not ask the same witness at once; SQLite serves one host."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect() as connection:
        lock = {"lock_id": _WITNESS_LOCK_ID}
        held = bool(
            connection.execute(text("SELECT pg_try_advisory_lock(:lock_id)"), lock).scalar()
        )
        connection.commit()
        try:
            yield held
        finally:
            if held:
                connection.execute(text("SELECT pg_advisory_unlock(:lock_id)"), lock)
                connection.commit()


def _ask_each(engine: Engine, witnesses: list[WitnessConfig], post: Any) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    for witness in witnesses:
        with Session(engine, expire_on_commit=False) as db:
            head = latest_head(db)
            old_size = last_cosigned_size(db, witness)
            db.commit()  # ends the read; no lock is held while the witness is asked
        if head is None or old_size >= head.tree_size:
            outcomes[witness.name] = "current"
            continue
        try:
            row = witness_head(engine, witness, head, old_size, post)
        except WitnessRefusal as refusal:
            with Session(engine, expire_on_commit=False) as db:
                report_refusal(db, witness, refusal)
                db.commit()
            outcomes[witness.name] = "refused"
            continue
        except (
            OSError,
            ValueError,
            http.client.HTTPException,
            CheckpointRefused,
            TilesMissing,
        ) as exc:
            # A checkpoint holds no personal data; the error type is enough to act on.
            log.warning(
                "witness %s not reached (%s); retrying next round", witness.name, type(exc).__name__
            )
            row = None
        if row is not None:
            with Session(engine, expire_on_commit=False) as db:
                db.add(row)
                db.commit()
        outcomes[witness.name] = "failed" if row is None else "cosigned"
    return outcomes


def checkpoint_and_witness_round(
    engine: Engine | None = None, settings: Settings | None = None
) -> TreeHead | None:
    """The checkpointer's round (hub.audit.checkpoint.checkpoint_round), then the witnesses."""
    head = checkpoint_round(engine, settings)
    witness_round(engine, settings)
    return head
