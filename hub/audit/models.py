"""The log. One table, one total order (seq), one Merkle tree (RFC 6962) over all entries.

An entry has a public part, hashed directly into its leaf, and a personal part (who, about
whom, from where, on what basis) that the leaf commits to only through a salted digest, so that
the personal part can be erased at the end of retention without breaking the tree.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ColumnElement,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    literal_column,
)
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from hub.db import utc_field
from hub.vocabulary import Category


class CanonicalJSON(TypeDecorator[Any]):
    """A JSON column written as canonical JSON (sorted keys, no spaces, UTF-8: the encoding the
    leaf and the personal digest commit to), so `hub audit verify` can hash the stored text as
    it is instead of parsing and re-encoding every entry. Still JSON to the database."""

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Any:
        from hub.audit.log import canonical_json

        def process(value: Any) -> str:
            return canonical_json(value).decode()

        return process


def lists_category(category: Category) -> ColumnElement[bool]:
    """The entries whose categories name this one: the exact condition text of the category's
    partial index, which the console's search must repeat word for word (SQLite uses a partial
    index only for a query holding its WHERE term as written; PostgreSQL must prove it).

    `categories` is canonical JSON (a sorted list of quoted names), so the quoted name matches
    that category only, never another name containing it nor any other column's text. The name
    is a Category member, never user text: it is spelled into the SQL.
    """
    condition = f"CAST(categories AS TEXT) LIKE '%\"{Category(category).value}\"%'"
    # Untyped: typed Boolean, SQLite would be sent "... = 1", no longer the index's WHERE term.
    return literal_column(condition)


def category_index_name(category: Category) -> str:
    return f"ix_log_entry_cat_{Category(category).value}"


# One partial index on seq per disclosure category (migration 0005catsearch), so that a
# console search by category walks only that category's entries, newest first by seq, as the
# other filters walk their (column, seq) index: keyset pages, date spans (seq ranges) and deep
# pages cost a range scan. Chosen over a GIN index on categories::jsonb (PostgreSQL only, and a
# bitmap that must sort every match before the first page: slow for a common category) and over
# a side table (category, seq) (one more row per category on every append, written by the log's
# hot path or a trigger, and a second table to keep append-only). An append pays one LIKE per
# category on a short text and one index entry per disclosed category; see
# docs/privacy-console.md for the figures.
CATEGORY_INDEXES = tuple(
    Index(
        category_index_name(c),
        "seq",
        sqlite_where=lists_category(c),
        postgresql_where=lists_category(c),
    )
    for c in Category
)


class LogEntry(SQLModel, table=True):
    __tablename__ = "log_entry"
    __table_args__ = (
        *CATEGORY_INDEXES,
        Index("ix_log_entry_person_seq", "person_id", "seq"),
        Index("ix_log_entry_user_seq", "actor_user_id", "seq"),
        # The privacy console pages every filter newest first by seq (keyset, never OFFSET).
        Index("ix_log_entry_agency_seq", "actor_agency_id", "seq"),
        Index("ix_log_entry_role_seq", "actor_role", "seq"),
        Index("ix_log_entry_tag_seq", "tag", "seq"),
        Index("ix_log_entry_purpose_seq", "purpose", "seq"),
        Index("ix_log_entry_outcome_seq", "outcome", "seq"),
    )

    # The leaf index in the tree: gapless, assigned under a lock by hub.audit.log.append.
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    recorded_at: datetime = utc_field(index=True)
    kind: str = Field(max_length=16)  # disclosure | security
    tag: str = Field(max_length=64, index=True)
    outcome: str = Field(max_length=16)  # disclosed | withheld | success | failure | denied
    purpose: str | None = Field(default=None, max_length=32)
    actor_role: str | None = Field(default=None, max_length=32)
    actor_agency_id: int | None = Field(default=None, index=True)
    categories: list[str] = Field(default_factory=list, sa_column=Column(CanonicalJSON))
    policy_version: str | None = Field(default=None, max_length=64)
    # --- personal part: erasable at the end of retention ---
    actor_user_id: int | None = Field(default=None)
    person_id: int | None = Field(default=None)
    request_id: str | None = Field(default=None, max_length=64)
    address: str | None = Field(default=None, max_length=64)
    # Legal basis per disclosed category, reason per withheld one, ids of objects touched.
    detail: dict[str, Any] | None = Field(default=None, sa_column=Column(CanonicalJSON))
    salt: str | None = Field(default=None, max_length=64)
    erased_at: datetime | None = utc_field(default=None)
    # --- commitments ---
    personal_digest: str = Field(max_length=64)
    leaf_hash: str = Field(max_length=64)


class TreeHead(SQLModel, table=True):
    """A signed checkpoint (C2SP tlog-checkpoint, Ed25519 signed note) over the first
    tree_size entries."""

    __tablename__ = "tree_head"

    id: int | None = Field(default=None, primary_key=True)
    tree_size: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    root_hash: str = Field(max_length=64)
    signed_note: str
    created_at: datetime = utc_field()
    pushed_at: datetime | None = utc_field(default=None)
    # The perfect subtrees covering the first tree_size leaves (hex, largest first): lets the
    # next checkpoint extend this tree by reading only the newer leaves. Never trusted alone:
    # it is checked against root_hash before use, and `hub audit verify` ignores it.
    compact_range: str | None = Field(default=None)


class LogTile(SQLModel, table=True):
    """The tree as C2SP tlog-tiles: tile `tile_index` at `level` holds up to 256 consecutive
    hashes of subtrees of 256**level leaves (level 0: the leaf hashes). Full tiles (width 256)
    never change; the rightmost tile of each level is the partial one, widened as the
    checkpointer integrates entries (hub.audit.tiles), in the transaction that signs the head.
    Proofs read O(log n) tiles instead of every leaf. Derived data, never trusted alone: a
    proof built from them is checked against a signed root, and `hub audit verify` checks
    every tile against the leaves."""

    __tablename__ = "log_tile"

    level: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    tile_index: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    width: int = Field(sa_column=Column(Integer, nullable=False))  # 1..256 hashes
    hashes: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # width * 32 bytes


class LogRetention(SQLModel, table=True):
    """One row: entries recorded before erase_before may have their personal part erased.

    The database guards it (migration 0002audit): it only moves forward, never past now minus
    six years (HIPAA 164.316(b)(2)), and it is the only date the erasure trigger trusts.
    """

    __tablename__ = "log_retention"

    id: int = Field(default=1, primary_key=True)
    erase_before: datetime = utc_field()


class WitnessCosignature(SQLModel, table=True):
    """A witness's cosignature (c2sp.org/tlog-cosignature) of a signed head: the witness saw
    that head's tree extend every tree of this log it had cosigned before. Receipts carry them
    (hub.audit.receipts), so a checker can require k of n witnesses it trusts."""

    __tablename__ = "witness_cosignature"

    id: int | None = Field(default=None, primary_key=True)
    tree_head_id: int = Field(foreign_key="tree_head.id", index=True)
    witness: str = Field(max_length=255, index=True)  # the witness's key name
    key_id: str = Field(max_length=8)  # hex
    signature: str  # the note signature line the witness answered, without its newline
    cosigned_at: datetime = utc_field()  # the witness's timestamp
    received_at: datetime = utc_field()


class SigningKeyRotation(SQLModel, table=True):
    """A rotation of the checkpoint signing key (hub.audit.signing_keys): the statement, a
    signed note by the old key and the new one, that announces the new key. A verifier that
    trusts either key learns the other from it; a key no statement announces is not trusted."""

    __tablename__ = "signing_key_rotation"

    id: int | None = Field(default=None, primary_key=True)
    old_key: str = Field(max_length=255)  # verifier keys (c2sp.org/signed-note vkey)
    new_key: str = Field(max_length=255, unique=True)
    tree_size: int = Field(sa_type=BigInteger)  # the log's size when the old key signed last
    statement: str
    created_at: datetime = utc_field()
