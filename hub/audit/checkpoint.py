"""Signed tree heads: a C2SP checkpoint over every entry of the log, signed with the hub's
Ed25519 key, stored in tree_head and copied outside the database (a directory and/or an HTTP
endpoint), so that a rewrite of the database cannot also rewrite what was signed and sent
(CJIS AU-9; ASVS V16.4.3: logs copied to a separate system).

`checkpoint_round` is one round of the background task started by the app (hub.web.app): sign
a head if there are new entries, push the heads not yet pushed, and look for tampering.
"""

import asyncio
import logging
import os
import tempfile
import urllib.request
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select

from hub.audit.integrity import missing_triggers, refused_changes
from hub.audit.log import Actor, Event, append
from hub.audit.merkle import (
    CompactRange,
    ExtendedNodes,
    NodeHash,
    TreeNodes,
    consistency_proof,
    verify_consistency,
)
from hub.audit.models import LogEntry, SigningKeyRotation, TreeHead
from hub.audit.notes import Checkpoint, NoteError, Signer, Verifier, open_checkpoint
from hub.audit.signing_keys import key_chain
from hub.audit.tiles import TileNodes, TilesMissing, covered_size, integrate
from hub.db import get_engine, try_transaction_lock, utcnow
from hub.settings import Settings, get_settings
from hub.vocabulary import LogKind, LogOutcome, SecurityEventTag

log = logging.getLogger("hub.audit")

# Names the advisory lock that lets one app process at a time sign a checkpoint.
_CHECKPOINT_LOCK_ID = 6963
_PUSH_TIMEOUT_SECONDS = 5
_PUSH_BATCH = 100
_STREAM_ABOVE = 10_000  # leaf hashes held at once (640 kB)


class CheckpointRefused(RuntimeError):
    """The log as stored cannot be signed: it does not extend the last signed head."""


def signers(settings: Settings | None = None) -> list[Signer]:
    """The signing keys in HUB_LOG_SIGNING_KEY, newest (the one that signs) first."""
    settings = settings or get_settings()
    assert settings.log_signing_key is not None  # Settings refuses to load without it
    seeds = settings.log_signing_key.get_secret_value().split(",")
    return [Signer.from_seed(settings.log_origin, seed.strip()) for seed in seeds]


def signer(settings: Settings | None = None) -> Signer:
    return signers(settings)[0]


def rotation_statements(db: Session) -> list[str]:
    """The signing key's rotation statements, oldest first (hub.audit.signing_keys)."""
    return list(
        db.exec(select(SigningKeyRotation.statement).order_by(col(SigningKeyRotation.id))).all()
    )


def trusted_verifier(db: Session, settings: Settings | None = None) -> Verifier:
    """This hub's key and the older keys its rotation statements announced (hub.audit
    .signing_keys): what its own checkpoints are checked with."""
    return key_chain(verifier_key(settings), rotation_statements(db))


def verifier_key(settings: Settings | None = None) -> str:
    """The key a witness or a defender's office uses to check this hub's checkpoints."""
    return signer(settings).verifier_key


def leaf_hashes(db: Session, lo: int, hi: int) -> Iterator[bytes]:
    """Leaf hashes of entries lo..hi-1 in order; CheckpointRefused on a gap."""
    query = (
        select(LogEntry.seq, LogEntry.leaf_hash)
        .where(LogEntry.seq >= lo, LogEntry.seq < hi)
        .order_by(col(LogEntry.seq))
    )
    # Streamed only when there are many: on PostgreSQL a stream is a server-side cursor, four
    # round trips (DECLARE, FETCH, FETCH, CLOSE) where a checkpoint after one append needs one.
    if hi - lo > _STREAM_ABOVE:
        query = query.execution_options(yield_per=_STREAM_ABOVE)
    rows = db.execute(query)
    expected = lo
    for seq, leaf in rows:
        if seq != expected:
            raise CheckpointRefused(f"log entry {expected} is missing")
        expected += 1
        yield bytes.fromhex(leaf)
    if expected != hi:
        raise CheckpointRefused(f"log entry {expected} is missing")


def latest_head(db: Session) -> TreeHead | None:
    return db.exec(
        select(TreeHead).order_by(col(TreeHead.tree_size).desc(), col(TreeHead.id).desc()).limit(1)
    ).first()


def _log_size(db: Session) -> int:
    highest = db.exec(select(func.max(LogEntry.seq))).one()
    return 0 if highest is None else int(highest) + 1


def _older_tree(db: Session, head: TreeHead, verifier: Verifier) -> CompactRange:
    """The compact range of the last signed head, checked against its signature."""
    try:
        signed = open_checkpoint(head.signed_note, verifier)
    except NoteError as exc:
        raise CheckpointRefused(f"the head at size {head.tree_size} is not validly signed") from exc
    if signed.tree_size != head.tree_size or signed.root_hash.hex() != head.root_hash:
        raise CheckpointRefused(f"the head at size {head.tree_size} differs from what was signed")
    if head.compact_range is None and covered_size(db) >= head.tree_size:
        older = TileNodes(db).compact_range(head.tree_size)
    elif head.compact_range is None:
        older = CompactRange()
        older.extend(leaf_hashes(db, 0, head.tree_size))
    else:
        older = CompactRange.from_hex(head.tree_size, head.compact_range)
    if older.root().hex() != head.root_hash:
        raise CheckpointRefused(f"the stored tree at size {head.tree_size} is not the signed one")
    return older


def sign_checkpoint(db: Session, settings: Settings | None = None) -> TreeHead | None:
    """Sign and store a head over every entry, if the last head does not cover them all. The
    new tree must extend the last signed one (checked with an RFC 9162 consistency proof).
    Returns None when there is nothing new or another process is signing. The caller commits."""
    settings = settings or get_settings()
    if not try_transaction_lock(db, _CHECKPOINT_LOCK_ID):
        return None
    key = signer(settings)
    previous = latest_head(db)
    size = _log_size(db)
    older = CompactRange()
    if previous is not None:
        if size < previous.tree_size:
            raise CheckpointRefused(
                f"the log has {size} entries but a signed head covers {previous.tree_size}"
            )
        if size == previous.tree_size:
            return None
        older = _older_tree(db, previous, trusted_verifier(db, settings))
    elif size == 0:
        return None
    newer = list(leaf_hashes(db, older.size, size))
    tree = older.copy()
    tree.extend(newer)
    root = tree.root()
    if previous is not None:
        proof = consistency_proof(older.size, size, ExtendedNodes(older, newer))
        verify_consistency(older.size, size, proof, older.root(), root)
    _integrate_tiles(db, older.size, newer, root)
    head = TreeHead(
        tree_size=size,
        root_hash=root.hex(),
        signed_note=key.sign(Checkpoint(settings.log_origin, size, root).text()),
        created_at=utcnow(),
        compact_range=tree.to_hex(),
    )
    db.add(head)
    db.flush()
    return head


def _integrate_tiles(db: Session, older_size: int, newer: Sequence[bytes], root: bytes) -> None:
    """Extend the stored tiles (hub.audit.tiles) to the new head, in its transaction, and
    check that they give its root. Tiles that do not reach the older head (the first head after
    migration 0006tile) are first built from the leaves; tiles that cannot be extended or give
    another root are rebuilt from every leaf (logged: a tile changed behind the log's back)."""
    start = min(covered_size(db), older_size)
    behind = leaf_hashes(db, start, older_size) if start < older_size else iter(())
    try:
        tiled = integrate(db, start, chain(behind, newer)).root()
    except TilesMissing as exc:
        log.error("the log's tiles cannot be extended (%s); rebuilding them", exc)
        tiled = b""
    if tiled != root:
        if tiled:
            log.error("the log's tiles do not give the root being signed; rebuilding them")
        size = older_size + len(newer)
        tiled = integrate(db, 0, leaf_hashes(db, 0, size)).root()
        if tiled != root:
            raise CheckpointRefused("the tiles rebuilt from the leaves do not give the root")


def proof_nodes(db: Session, size: int, indices: Iterable[int] = ()) -> NodeHash:
    """node(lo, hi) for proofs in the tree of the first `size` entries, from the stored tiles
    (O(log n) tiles per proof, those of the inclusion proofs of `indices` read at once), or
    from every leaf while the tiles do not reach that size yet (before the first checkpoint
    after migration 0006tile)."""
    if covered_size(db) >= size:
        nodes = TileNodes(db)
        nodes.prefetch(size, indices)
        return nodes
    return TreeNodes(list(leaf_hashes(db, 0, size)))


# --- copies outside the database ------------------------------------------------------------


def checkpoint_file(directory: Path, tree_size: int) -> Path:
    return directory / f"{tree_size}.checkpoint"


def push_to_directory(directory: Path, head: TreeHead) -> None:
    """Write the signed note to <dir>/<tree size>.checkpoint atomically (write, fsync, rename).
    A different note already there for that size is a fork: refuse to overwrite it."""
    target = checkpoint_file(directory, head.tree_size)
    if target.exists():
        if target.read_text(encoding="utf-8") == head.signed_note:
            return
        raise CheckpointRefused(f"{target} holds a different checkpoint of that size (a fork)")
    directory.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".checkpoint-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(head.signed_note)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def push_to_url(url: str, head: TreeHead) -> None:
    if not url.startswith(("https://", "http://")):
        raise ValueError("HUB_CHECKPOINT_PUSH_URL must be an http(s) URL")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=head.signed_note.encode(),
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    with urllib.request.urlopen(request, timeout=_PUSH_TIMEOUT_SECONDS) as response:  # noqa: S310
        response.read()


def push_pending(db: Session, settings: Settings | None = None) -> int:
    """Push the heads not yet pushed, oldest first; stop at the first failure (retried next
    round). Returns how many were pushed."""
    settings = settings or get_settings()
    if settings.checkpoint_push_dir is None and settings.checkpoint_push_url is None:
        return 0
    pending = db.exec(
        select(TreeHead)
        .where(col(TreeHead.pushed_at).is_(None))
        .order_by(col(TreeHead.tree_size), col(TreeHead.id))
        .limit(_PUSH_BATCH)
    ).all()
    pushed = 0
    for head in pending:
        try:
            if settings.checkpoint_push_dir is not None:
                push_to_directory(settings.checkpoint_push_dir, head)
            if settings.checkpoint_push_url is not None:
                push_to_url(settings.checkpoint_push_url, head)
        except CheckpointRefused as exc:
            log.error("checkpoint of size %d not pushed: %s", head.tree_size, exc)
            break
        except (OSError, ValueError) as exc:
            # A checkpoint holds no personal data; the error type is enough to act on.
            log.warning(
                "checkpoint of size %d not pushed (%s); retrying next round",
                head.tree_size,
                type(exc).__name__,
            )
            break
        if mark_pushed(db, head):
            pushed += 1
    return pushed


def mark_pushed(db: Session, head: TreeHead) -> bool:
    """Set the head's pushed_at unless another process already has, and commit. Two workers
    can push the same head at the same moment (the push itself is idempotent); setting
    pushed_at a second time would be refused by the log's trigger and counted as an attempt at
    tampering (bench/crash.py saw that false alarm on PostgreSQL). Returns whether it was this
    call that set it."""
    marked = db.connection().execute(
        update(TreeHead)
        .where(col(TreeHead.id) == head.id, col(TreeHead.pushed_at).is_(None))
        .values(pushed_at=utcnow())
    )
    db.commit()
    return bool(marked.rowcount)


# --- watching for tampering -------------------------------------------------------------------


def _last_tamper_report(db: Session) -> Any:
    detail = db.exec(
        select(LogEntry.detail)
        .where(LogEntry.tag == SecurityEventTag.log_tamper_attempt.value)
        .where(col(LogEntry.erased_at).is_(None))
        .order_by(col(LogEntry.seq).desc())
        .limit(1)
    ).first()
    return detail


def watch_for_tampering(db: Session) -> dict[str, object] | None:
    """Record in the log (once per change) missing triggers and changes the database refused;
    returns the report when it is new. The caller commits."""
    connection = db.connection()
    report: dict[str, object] = {
        "missing_triggers": missing_triggers(connection),
        "refused_changes": refused_changes(connection),
    }
    if not report["missing_triggers"] and not report["refused_changes"]:
        return None
    if _last_tamper_report(db) == report:
        return None
    log.error(
        "the log's protection was attacked: %d refused changes, missing triggers: %s",
        report["refused_changes"] or 0,
        ", ".join(report["missing_triggers"]) or "none",  # type: ignore[arg-type]
    )
    append(
        db,
        Actor(),
        Event(
            kind=LogKind.security,
            tag=SecurityEventTag.log_tamper_attempt,
            outcome=LogOutcome.failure if report["missing_triggers"] else LogOutcome.denied,
            detail=report,
        ),
    )
    return report


def checkpoint_round(
    engine: Engine | None = None, settings: Settings | None = None
) -> TreeHead | None:
    """One round of the checkpointer: watch, sign if there is something new, push."""
    engine = engine or get_engine()
    settings = settings or get_settings()
    with Session(engine, expire_on_commit=False) as db:
        watch_for_tampering(db)
        db.commit()
    with Session(engine, expire_on_commit=False) as db:
        head = sign_checkpoint(db, settings)
        db.commit()
    with Session(engine, expire_on_commit=False) as db:
        push_pending(db, settings)
    return head


async def run_checkpointer(
    interval: float,
    round_: Callable[[], object] = checkpoint_round,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Every `interval` seconds, one checkpoint round in a worker thread. A failed round is
    logged and the next one tries again: the app keeps serving."""
    while True:
        await sleep(interval)
        try:
            await asyncio.to_thread(round_)
        except CheckpointRefused as exc:
            log.error("no checkpoint signed: %s", exc)
        except Exception as exc:
            log.warning("checkpoint round failed (%s); retrying next round", type(exc).__name__)
