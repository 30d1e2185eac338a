"""The one writer of the log. Every disclosure and every security event is appended here, in
the caller's transaction, so that it commits together with what it records or not at all.

Leaf hashing follows RFC 6962 section 2.1: leaf_hash = SHA-256(0x00 || leaf_data), where
leaf_data is the canonical JSON of the entry's public part plus `personal_digest`, and
personal_digest = SHA-256(salt || canonical JSON of the personal part). Erasing the personal
part at the end of retention leaves the digest, so the tree still verifies.
"""

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, insert, text
from sqlmodel import Session, col, select

from hub.audit.models import LogEntry
from hub.db import UTCDateTime, table_of, utcnow
from hub.vocabulary import SecurityEventTag

# Any constant will do: it names the one advisory lock that orders appends on PostgreSQL.
_APPEND_LOCK_ID = 6962


def canonical_json(value: Any) -> bytes:
    """The one serialisation hashed into the tree: sorted keys, no spaces, UTF-8. NaN and
    infinities are refused (they are not JSON, and a verifier elsewhere could not read them)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


PUBLIC_FIELDS = (
    "seq",
    "recorded_at",
    "kind",
    "tag",
    "outcome",
    "purpose",
    "actor_role",
    "actor_agency_id",
    "categories",
    "policy_version",
)
PERSONAL_FIELDS = ("actor_user_id", "person_id", "request_id", "address", "detail")


def personal_part(entry: LogEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in PERSONAL_FIELDS}


def public_part(entry: LogEntry) -> dict[str, Any]:
    part = {name: getattr(entry, name) for name in PUBLIC_FIELDS}
    part["recorded_at"] = timestamp(entry.recorded_at)
    return part


def personal_digest(salt: str, personal: dict[str, Any]) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + canonical_json(personal)).hexdigest()


def leaf_data(entry: LogEntry) -> bytes:
    return canonical_json({**public_part(entry), "personal_digest": entry.personal_digest})


def leaf_hash(data: bytes) -> str:
    return hashlib.sha256(b"\x00" + data).hexdigest()


@dataclass
class Actor:
    """Who caused an entry, and from where: filled from the request by the web layer."""

    user_id: int | None = None
    role: str | None = None
    agency_id: int | None = None
    request_id: str | None = None
    address: str | None = None


@dataclass
class Event:
    kind: str  # disclosure | security
    tag: str
    outcome: str
    purpose: str | None = None
    person_id: int | None = None
    categories: list[str] = field(default_factory=list)
    policy_version: str | None = None
    detail: dict[str, Any] | None = None


def _next_place(db: Session) -> tuple[int, datetime]:
    """The next seq and its time: never earlier than the last entry's, so that time order and
    seq order agree (`hub audit verify` checks it to tell a reordering) even if the clock steps
    back."""
    last: tuple[int | None, datetime | None] | None
    if db.get_bind().dialect.name == "postgresql":
        # Takes the log's advisory lock, held to the end of the transaction, then reads the last
        # entry: appends from every process take turns, so seq is one gapless total order even
        # with several app servers. One round trip (migration 0005logplace), because every
        # disclosing request waits while the holder makes it.
        statement = text("SELECT last_seq, last_at FROM log_next_place(:lock_id)").columns(
            last_seq=BigInteger, last_at=UTCDateTime
        )
        last = tuple(db.execute(statement, {"lock_id": _APPEND_LOCK_ID}).one())
    else:
        # On SQLite every transaction already holds the write lock (hub.db: BEGIN IMMEDIATE).
        last = db.exec(
            select(LogEntry.seq, LogEntry.recorded_at).order_by(col(LogEntry.seq).desc()).limit(1)
        ).first()
    now = utcnow()
    if last is None or last[0] is None or last[1] is None:  # an empty log
        return 0, now
    return int(last[0]) + 1, max(now, last[1])


def append(db: Session, actor: Actor, event: Event) -> LogEntry:
    """Adds one entry to the log in the caller's transaction and writes it. The caller commits;
    if the commit fails, neither the entry nor what it records is kept."""
    return append_many(db, actor, [event])[0]


def append_many(db: Session, actor: Actor, events: list[Event]) -> list[LogEntry]:
    """Adds entries, one per event and in their order, in the caller's transaction, and
    writes them together: one turn at the log's lock for a page that discloses many clients
    (a work-group agenda). The caller commits, as for `append`."""
    if not events:
        return []
    seq, recorded_at = _next_place(db)
    entries = []
    for event in events:
        entry = LogEntry(
            seq=seq,
            recorded_at=recorded_at,
            kind=event.kind,
            tag=event.tag,
            outcome=event.outcome,
            purpose=event.purpose,
            actor_role=actor.role,
            actor_agency_id=actor.agency_id,
            categories=sorted(event.categories),
            policy_version=event.policy_version,
            actor_user_id=actor.user_id,
            person_id=event.person_id,
            request_id=actor.request_id,
            address=actor.address,
            detail=event.detail,
            salt=secrets.token_hex(16),
            personal_digest="",
            leaf_hash="",
        )
        assert entry.salt is not None
        entry.personal_digest = personal_digest(entry.salt, personal_part(entry))
        entry.leaf_hash = leaf_hash(leaf_data(entry))
        entries.append(entry)
        seq += 1
    # One multi-row INSERT, not the ORM's unit of work: the entries are never changed after
    # this (the database refuses it), so the session need not track them, and every disclosing
    # request (an agenda: forty entries) pays for this while holding the log's lock.
    log_table = table_of(LogEntry)
    db.execute(
        insert(log_table),
        [
            {column.key: getattr(entry, column.key) for column in log_table.columns}
            for entry in entries
        ],
    )
    return entries


def append_and_commit(db: Session, actor: Actor, event: Event) -> LogEntry:
    """Appends the entry that records a write and commits both together: the write is kept
    with its entry or not at all (the caller rolls back if this raises)."""
    entry = append(db, actor, event)
    db.commit()
    return entry


def append_refusal(db: Session, actor: Actor, detail: dict[str, Any]) -> LogEntry:
    """Logs a refused attempt (ASVS V16: authorization failures are security events; the
    privacy console flags them) and commits it on its own: the refusal itself changed nothing.
    `detail` names the action and at most record numbers, never client data."""
    event = Event(
        kind="security", tag=SecurityEventTag.access_denied.value, outcome="denied", detail=detail
    )
    return append_and_commit(db, actor, event)
