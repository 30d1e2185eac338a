"""`hub audit verify`: recompute the whole log from what is stored and compare it with what was
signed. Independent of the triggers: it finds what was changed with them dropped.

For every entry, in seq order: the leaf is rebuilt from the stored public part and personal
digest and compared with leaf_hash; the personal digest is rebuilt from the salt and personal
part (unless the entry was erased at the end of retention, when the stored digest is all there
is); seq must run 0..n-1 and recorded_at must never go back. Then the tree: every stored head
must carry a valid signature and the root of the first tree_size leaves, and consecutive heads
must be consistent (an RFC 9162 proof between them is built and checked). The tree is grown as
tiles (hub.audit.tiles), and every stored tile must hold what the leaves make.

Speed: rows are streamed as plain columns (no ORM objects, no type processors), the canonical
JSON of the fixed fields is assembled by hand with the json module's own string escaper, and
only `detail` goes through json. tests/test_audit_verify.py checks the result byte for byte
against hub.audit.log's reference encoding.
"""

import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    NullPool,
    String,
    Text,
    cast,
    create_engine,
    func,
    literal_column,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from hub.audit.integrity import missing_triggers, refused_changes
from hub.audit.log import canonical_json, timestamp
from hub.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    ExtendedNodes,
    ProofError,
    consistency_proof,
    verify_consistency,
)
from hub.audit.models import LogEntry, LogTile, TreeHead
from hub.audit.notes import NoteError, Verifier, open_checkpoint
from hub.audit.tiles import TILE_WIDTH, TileBuilder
from hub.db import table_of

_BATCH = 20_000
_CHUNK = 50_000
_NOTHING = (None, None, None, None, None, None)
sha256 = hashlib.sha256
q = encode_basestring
_MOVED_SEARCH_WINDOW = 5_000
_TILE_WINDOW = 512  # stored tiles read per query (4 MB)


@dataclass(frozen=True)
class Problem:
    """What is wrong, and from which entry on (`seq`; `until` when only a range is known)."""

    seq: int | None
    what: str
    until: int | None = None

    def __str__(self) -> str:
        if self.seq is None:
            return self.what
        where = f"entries {self.seq}..{self.until - 1}" if self.until else f"entry {self.seq}"
        return f"{where}: {self.what}"


@dataclass
class Report:
    entries: int = 0
    erased: int = 0
    heads: int = 0
    tiles: int = 0
    root: bytes = EMPTY_ROOT
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        """The first entry found wrong. A tree-level finding only bounds a range of entries;
        an exact finding inside (or before) that range names the entry better."""
        exact = [p for p in self.problems if p.seq is not None and p.until is None]
        ranges = [p for p in self.problems if p.until is not None]
        best_exact = min(exact, key=lambda p: p.seq or 0, default=None)
        best_range = min(ranges, key=lambda p: p.seq or 0, default=None)
        if (
            best_range is not None
            and best_range.until is not None
            and (best_exact is None or (best_exact.seq or 0) >= best_range.until)
        ):
            return best_range
        if best_exact is not None:
            return best_exact
        return self.problems[0] if self.problems else None


# --- canonical leaf bytes, assembled -----------------------------------------------------------


def _text(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def _number(value: int | None) -> str:
    return "null" if value is None else str(int(value))


def public_leaf_text(
    seq: int,
    recorded_at: str,
    kind: str,
    tag: str,
    outcome: str,
    purpose: str | None,
    actor_role: str | None,
    actor_agency_id: int | None,
    categories: str,
    policy_version: str | None,
    personal_digest: str,
) -> str:
    """The leaf data (as text) of hub.audit.log.leaf_data; `categories` already canonical."""
    return (
        f'{{"actor_agency_id":{_number(actor_agency_id)},"actor_role":{_text(actor_role)},'
        f'"categories":{categories},"kind":{_text(kind)},"outcome":{_text(outcome)},'
        f'"personal_digest":{_text(personal_digest)},"policy_version":{_text(policy_version)},'
        f'"purpose":{_text(purpose)},"recorded_at":{_text(recorded_at)},"seq":{seq},'
        f'"tag":{_text(tag)}}}'
    )


def personal_text(
    actor_user_id: int | None,
    address: str | None,
    detail: str,
    person_id: int | None,
    request_id: str | None,
) -> str:
    """The canonical JSON of hub.audit.log.personal_part; `detail` already canonical."""
    return (
        f'{{"actor_user_id":{_number(actor_user_id)},"address":{_text(address)},'
        f'"detail":{detail},"person_id":{_number(person_id)},"request_id":{_text(request_id)}}}'
    )


def _canonical_from_stored(raw: str | None, cache: dict[str | None, str] | None = None) -> str:
    """Stored JSON text -> canonical JSON text (SQL NULL reads as JSON null)."""
    if cache is not None and raw in cache:
        return cache[raw]
    value = canonical_json(None if raw is None else json.loads(raw)).decode()
    if cache is not None and len(cache) < 10_000:
        cache[raw] = value
    return value


def _normal_time(stored: str) -> str:
    """A stored time as hub.audit.log.timestamp writes it, whatever precision it was kept at."""
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(stored.removesuffix("Z"))
    except ValueError:
        return stored
    return timestamp(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


# --- reading -----------------------------------------------------------------------------------


def _columns(dialect: str) -> list[ColumnElement[Any]]:
    table = table_of(LogEntry)
    c = table.c
    if dialect == "postgresql":
        recorded: ColumnElement[Any] = func.to_char(
            literal_column("recorded_at AT TIME ZONE 'UTC'"), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'
        )
        categories: ColumnElement[Any] = cast(c.categories, Text)
        detail: ColumnElement[Any] = cast(c.detail, Text)
    else:
        # hub.db.UTCDateTime stores 'YYYY-MM-DD HH:MM:SS.ffffff' on SQLite
        recorded = func.replace(cast(c.recorded_at, String), " ", "T") + "Z"
        categories = cast(c.categories, String)
        detail = cast(c.detail, String)
    return [
        c.seq,
        recorded,
        c.kind,
        c.tag,
        c.outcome,
        c.purpose,
        c.actor_role,
        c.actor_agency_id,
        categories,
        c.policy_version,
        c.actor_user_id,
        c.person_id,
        c.request_id,
        c.address,
        detail,
        c.salt,
        c.erased_at.is_not(None),
        c.personal_digest,
        c.leaf_hash,
    ]


def stream_entries(
    connection: Connection, lo: int | None = None, hi: int | None = None
) -> Iterator[Sequence[Any]]:
    """Entries (all, or seq lo..hi-1) as plain tuples (see _columns), in seq order, straight
    from the driver's cursor (server-side on PostgreSQL): no ORM objects, no Row wrappers,
    constant memory."""
    query = select(*_columns(connection.dialect.name)).order_by(LogEntry.seq)  # type: ignore[arg-type]
    if lo is not None and hi is not None:
        query = query.where(LogEntry.seq >= lo, LogEntry.seq < hi)  # type: ignore[arg-type]
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    raw = connection.connection.driver_connection
    assert raw is not None
    if connection.dialect.name == "postgresql":
        cursor = raw.cursor(name="hub_audit_verify")
        cursor.itersize = _BATCH
    else:
        cursor = raw.cursor()
    try:
        cursor.execute(sql)
        while batch := cursor.fetchmany(_BATCH):
            yield from batch
    finally:
        cursor.close()


@dataclass
class _Head:
    id: int
    tree_size: int
    root_hash: str
    signed_note: str


def _heads(connection: Connection) -> list[_Head]:
    table = table_of(TreeHead)
    rows = connection.execute(
        select(table.c.id, table.c.tree_size, table.c.root_hash, table.c.signed_note).order_by(
            table.c.tree_size, table.c.id
        )
    )
    return [_Head(*row) for row in rows]


# --- checking ----------------------------------------------------------------------------------


class _EntryCheck:
    """Checks entries one by one; keeps the rows of the first mismatches to explain them."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.categories_cache: dict[str | None, str] = {}
        self.expected = 0
        self.last_time = ""
        self.mismatched: list[Sequence[Any]] = []
        self.fixed_cache: dict[tuple[Any, ...], str] = {}

    def problem(self, seq: int, what: str) -> None:
        if len(self.report.problems) < 100:
            self.report.problems.append(Problem(seq, what))

    def leaf(self, row: Sequence[Any]) -> bytes:
        """Check one entry; returns its stored leaf hash (raw) for the tree."""
        (
            seq, recorded_at, kind, tag, outcome, purpose, actor_role, actor_agency_id,
            categories, policy_version, actor_user_id, person_id, request_id, address, detail,
            salt, erased, personal_digest, leaf_hash,
        ) = row  # fmt: skip
        if seq != self.expected:
            if seq > self.expected:
                self.problem(self.expected, f"entries {self.expected}..{seq - 1} are missing")
            else:
                self.problem(seq, "appears out of order or twice")
            self.expected = seq
        self.expected += 1
        if recorded_at < self.last_time:
            self.problem(seq, "recorded before the entry it follows: entries were reordered")
        self.last_time = recorded_at
        try:
            stored = bytes.fromhex(leaf_hash)
            # The stored JSON text is canonical when hub.audit.log wrote it (CanonicalJSON);
            # hashing it as stored is exact, since only the canonical bytes can hash to the
            # committed value. Anything else is re-encoded before the entry is called altered.
            fixed = self.fixed_cache.get((actor_agency_id, actor_role, categories, kind, outcome))
            if fixed is None:
                fixed = self._fixed(actor_agency_id, actor_role, categories, kind, outcome)
            text = (
                f"{fixed}{q(personal_digest)}"
                f',"policy_version":{"null" if policy_version is None else q(policy_version)}'
                f',"purpose":{"null" if purpose is None else q(purpose)}'
                f',"recorded_at":{q(recorded_at)},"seq":{int(seq)},"tag":{q(tag)}}}'
            )
            if sha256(b"\x00" + text.encode()).digest() != stored and not self._public_matches(
                row, stored
            ):
                self.problem(seq, "its stored content does not hash to its leaf hash")
                if len(self.mismatched) < 5:
                    self.mismatched.append(row)
            if erased:
                self.report.erased += 1
                if (actor_user_id, person_id, request_id, address, detail, salt) != _NOTHING:
                    self.problem(seq, "marked erased but still holds a personal part")
            elif salt is None:
                self.problem(seq, "its personal part is gone but it is not marked erased")
            else:
                salt_bytes = bytes.fromhex(salt)
                part = (
                    '{"actor_user_id":'
                    f"{'null' if actor_user_id is None else int(actor_user_id)}"
                    f',"address":{"null" if address is None else q(address)}'
                    f',"detail":{"null" if detail is None else detail}'
                    f',"person_id":{"null" if person_id is None else int(person_id)}'
                    f',"request_id":{"null" if request_id is None else q(request_id)}}}'
                )
                if sha256(salt_bytes + part.encode()).hexdigest() != personal_digest:
                    part = personal_text(
                        actor_user_id, address, _canonical_from_stored(detail), person_id,
                        request_id,
                    )  # fmt: skip
                    if sha256(salt_bytes + part.encode()).hexdigest() != personal_digest:
                        self.problem(seq, "its personal part does not match its personal digest")
        except (ValueError, TypeError, AttributeError):
            self.problem(seq, "holds values that are not what the log stores (malformed)")
            return sha256(b"malformed").digest()
        return stored

    def _fixed(
        self,
        actor_agency_id: Any,
        actor_role: Any,
        categories: Any,
        kind: Any,
        outcome: Any,
    ) -> str:
        """The leaf text up to the personal digest: few distinct values, so it is cached."""
        fixed = (
            f'{{"actor_agency_id":{_number(actor_agency_id)},"actor_role":{_text(actor_role)},'
            f'"categories":{"null" if categories is None else categories},'
            f'"kind":{_text(kind)},"outcome":{_text(outcome)},"personal_digest":'
        )
        if len(self.fixed_cache) < 100_000:
            self.fixed_cache[(actor_agency_id, actor_role, categories, kind, outcome)] = fixed
        return fixed

    def _public_matches(self, row: Sequence[Any], stored: bytes) -> bool:
        """The slow way: re-encode categories canonically, re-read the time."""
        text = public_leaf_text(
            row[0], _normal_time(row[1]), row[2], row[3], row[4], row[5], row[6], row[7],
            _canonical_from_stored(row[8], self.categories_cache), row[9], row[17],
        )  # fmt: skip
        return sha256(b"\x00" + text.encode()).digest() == stored

    def explain_moves(self) -> None:
        """A mismatched entry whose content hashes to its leaf under another seq was moved."""
        for row in self.mismatched:
            seq = row[0]
            for other in range(max(0, seq - _MOVED_SEARCH_WINDOW), seq + _MOVED_SEARCH_WINDOW):
                if other != seq and self._leaf_matches_at(row, other):
                    self.report.problems = [
                        Problem(p.seq, f"holds the entry signed as seq {other}: entries were "
                                "reordered, inserted or deleted")
                        if p.seq == seq and "leaf hash" in p.what else p
                        for p in self.report.problems
                    ]  # fmt: skip
                    break

    def _leaf_matches_at(self, row: Sequence[Any], seq: int) -> bool:
        text = public_leaf_text(
            seq, row[1], row[2], row[3], row[4], row[5], row[6], row[7],
            _canonical_from_stored(row[8]), row[9], row[17],
        )  # fmt: skip
        return hashlib.sha256(b"\x00" + text.encode()).hexdigest() == row[18]


class _HeadCheck:
    """Checks each stored head as the tree grows past its size."""

    def __init__(self, report: Report, heads: list[_Head], verifier: Verifier) -> None:
        self.report = report
        self.pending = heads
        self.verifier = verifier
        self.next = 0
        self.previous: tuple[CompactRange, bytes] | None = None  # last good head's tree, root
        self.since_previous: list[bytes] = []

    @property
    def wanted(self) -> int | None:
        return self.pending[self.next].tree_size if self.next < len(self.pending) else None

    def at_size(self, tree: CompactRange | TileBuilder) -> None:
        while self.wanted == tree.size:
            self._check(self.pending[self.next], tree)
            self.next += 1

    def _check(self, head: _Head, tree: CompactRange | TileBuilder) -> None:
        report = self.report
        report.heads += 1
        start = 0 if self.previous is None else self.previous[0].size
        try:
            signed = open_checkpoint(head.signed_note, self.verifier)
        except NoteError as exc:
            report.problems.append(Problem(None, f"tree head {head.id}: {exc}"))
            return
        root = tree.root()
        if signed.tree_size != head.tree_size or signed.root_hash.hex() != head.root_hash:
            report.problems.append(
                Problem(None, f"tree head {head.id}: its columns differ from what was signed")
            )
        if signed.root_hash != root:
            report.problems.append(
                Problem(
                    start,
                    f"do not hash to the root signed at size {head.tree_size}: altered with "
                    "their hashes recomputed, inserted or deleted",
                    until=head.tree_size,
                )
            )
            return
        if self.previous is not None:
            older, older_root = self.previous
            try:
                nodes = ExtendedNodes(older, self.since_previous)
                proof = consistency_proof(older.size, tree.size, nodes)
                verify_consistency(older.size, tree.size, proof, older_root, signed.root_hash)
            except ProofError as exc:
                report.problems.append(
                    Problem(None, f"heads at sizes {older.size} and {tree.size}: {exc}")
                )
        self.previous = (tree.copy(), signed.root_hash)
        self.since_previous = []

    def after_all(self, size: int) -> None:
        for head in self.pending[self.next :]:
            self.report.problems.append(
                Problem(
                    size,
                    f"are missing: a signed head covers {head.tree_size} entries",
                    until=head.tree_size,
                )
            )


class _TileCheck:
    """Compares every stored tile with the tile the leaves make, as the tree grows (the full
    tiles) and at its end (the partial ones). A stored tile needs only match in its own width:
    a partial tile is the first hashes of the tile it grows into."""

    def __init__(self, report: Report, last: dict[int, int]) -> None:
        self.report = report
        self.last = last  # the highest stored tile index of each level
        self.connection: Connection | None = None
        self.windows: dict[int, tuple[int, dict[int, tuple[int, bytes]]]] = {}
        self.unchecked = 0

    def _stored(self, level: int, index: int) -> tuple[int, bytes] | None:
        start, rows = self.windows.get(level, (-_TILE_WINDOW, {}))
        if not start <= index < start + _TILE_WINDOW:
            assert self.connection is not None
            table = table_of(LogTile)
            query = select(table.c.tile_index, table.c.width, table.c.hashes).where(
                table.c.level == level,
                table.c.tile_index >= index,
                table.c.tile_index < index + _TILE_WINDOW,
            )
            rows = {i: (w, bytes(h)) for i, w, h in self.connection.execute(query)}
            self.windows[level] = (index, rows)
        return rows.get(index)

    def tile(self, level: int, index: int, made: bytes) -> None:
        stored = self._stored(level, index)
        if stored is None:
            if index < self.last.get(level, -1):
                self._problem(level, index, "is missing")
            return
        width, hashes = stored
        if width * 32 > len(made):
            self.unchecked += 1  # wider than the entries read: integrated while verify ran
        elif width * 32 != len(hashes) or hashes != made[: len(hashes)]:
            self._problem(level, index, "does not hold the hashes its entries make")
        else:
            self.report.tiles += 1

    def after_all(self, tree: TileBuilder) -> None:
        for level, partial in enumerate(tree.partials):
            if partial:
                self.tile(level, tree.indices[level], bytes(partial))
            last_made = tree.indices[level] - (0 if partial else 1)
            self.unchecked += max(0, self.last.get(level, -1) - last_made)
        self.unchecked += sum(
            index + 1 for level, index in self.last.items() if level >= len(tree.partials)
        )
        if self.unchecked:
            self.report.warnings.append(
                f"{self.unchecked} stored tile(s) reach past the entries read (integrated while "
                "verify ran?): not checked"
            )

    def _problem(self, level: int, index: int, what: str) -> None:
        span = TILE_WIDTH ** (level + 1)
        if len(self.report.problems) < 100:
            self.report.problems.append(
                Problem(
                    None,
                    f"the stored tile {level}/{index} (entries {index * span}.."
                    f"{(index + 1) * span - 1}) {what}",
                )
            )


def _stored_tiles(connection: Connection) -> tuple[dict[int, int], int]:
    """The highest stored tile index of each level, and how many leaves the tiles cover."""
    table = table_of(LogTile)
    last = {
        int(level): int(index)
        for level, index in connection.execute(
            select(table.c.level, func.max(table.c.tile_index)).group_by(table.c.level)
        )
    }
    covered = 0
    if 0 in last:
        width = connection.execute(
            select(table.c.width).where(table.c.level == 0, table.c.tile_index == last[0])
        ).scalar_one()
        covered = last[0] * TILE_WIDTH + int(width)
    return last, covered


@dataclass
class _Chunk:
    """What a worker found in seq lo..hi-1: the leaf hashes (32 bytes each, in order)."""

    lo: int
    leaves: bytes
    problems: list[Problem]
    erased: int
    first_time: str
    last_time: str
    mismatched: list[Sequence[Any]]


_worker_engine: Engine | None = None


def _check_range(job: tuple[str, int, int]) -> _Chunk:
    """In a worker process: check entries lo..hi-1 with a connection of its own."""
    global _worker_engine
    url, lo, hi = job
    if _worker_engine is None:
        _worker_engine = create_engine(url, poolclass=NullPool)
    report = Report()
    check = _EntryCheck(report)
    check.expected = lo
    leaves = bytearray()
    first_time = ""
    with _worker_engine.connect() as connection, connection.begin():
        for row in stream_entries(connection, lo, hi):
            if not first_time:
                first_time = row[1]
            leaves += check.leaf(row)
    if check.expected < hi:
        report.problems.append(
            Problem(check.expected, f"entries {check.expected}..{hi - 1} are missing")
        )
    return _Chunk(
        lo, bytes(leaves), report.problems, report.erased, first_time, check.last_time,
        check.mismatched,
    )  # fmt: skip


def _leaves_in_parallel(
    url: str, size: int, workers: int, chunk_size: int, report: Report, entries: "_EntryCheck"
) -> Iterator[bytes]:
    """Leaf hashes of entries 0..size-1 in order, checked by `workers` processes, chunk by
    chunk; the caller builds the tree while the workers read on."""
    jobs = [(url, lo, min(lo + chunk_size, size)) for lo in range(0, size, chunk_size)]
    # fork: the workers need no re-import; they open their own connections.
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        last_time = ""
        for chunk in pool.imap(_check_range, jobs):
            report.problems.extend(chunk.problems)
            report.erased += chunk.erased
            entries.mismatched.extend(chunk.mismatched[: max(0, 5 - len(entries.mismatched))])
            if chunk.first_time and chunk.first_time < last_time:
                report.problems.append(
                    Problem(
                        chunk.lo, "recorded before the entry it follows: entries were reordered"
                    )
                )
            last_time = chunk.last_time or last_time
            leaves = chunk.leaves
            for at in range(0, len(leaves), 32):
                yield leaves[at : at + 32]


def verify_log(
    engine: Engine,
    verifier: Verifier,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    chunk_size: int = _CHUNK,
) -> Report:
    """Check the whole log and its signed heads; the report lists what is wrong, if anything.
    A large log is read by `workers` processes (default: one per CPU, at most 4)."""
    report = Report()
    options: dict[str, Any] = {"isolation_level": "REPEATABLE READ"}  # one snapshot throughout
    if engine.dialect.name == "sqlite":
        # Plain reads, without hub.db's BEGIN IMMEDIATE: appends go on while we read, and the
        # one streaming SELECT sees a single snapshot (heads are read first, so they never
        # cover entries the stream could miss).
        engine = create_engine(engine.url, poolclass=NullPool)
        options = {}
    if workers is None:
        workers = min(4, os.cpu_count() or 1)
    entries = _EntryCheck(report)
    with engine.connect() as connection:
        connection = connection.execution_options(**options)
        with connection.begin():
            heads = _heads(connection)
            size_now = connection.execute(
                select(func.coalesce(func.max(LogEntry.seq) + 1, 0))
            ).scalar_one()
            outside = connection.execute(
                select(func.count()).where(LogEntry.seq < 0)  # type: ignore[arg-type]
            ).scalar_one()
            last_tiles, tiled = _stored_tiles(connection)
    if outside:
        report.problems.append(Problem(None, f"{outside} entries have a negative seq"))
    if heads and tiled < heads[-1].tree_size:
        report.warnings.append(
            f"the tiles cover {tiled} of the {heads[-1].tree_size} entries signed: the next "
            "checkpoint builds the rest"
        )
    head_check = _HeadCheck(report, heads, verifier)
    tile_check = _TileCheck(report, last_tiles)
    tree = TileBuilder(on_tile=tile_check.tile)
    head_check.at_size(tree)
    parallel = workers > 1 and size_now >= 2 * chunk_size
    with engine.connect() as tile_connection:
        tile_check.connection = tile_connection
        if parallel:
            url = engine.url.render_as_string(hide_password=False)
            leaves = _leaves_in_parallel(url, size_now, workers, chunk_size, report, entries)
            report.entries = _grow(tree, leaves, head_check, progress)
        with engine.connect() as connection:
            connection = connection.execution_options(**options)
            with connection.begin():
                if not parallel:
                    leaves = (entries.leaf(row) for row in stream_entries(connection))
                    report.entries = _grow(tree, leaves, head_check, progress)
                missing = missing_triggers(connection)
                refused = refused_changes(connection)
        tile_check.after_all(tree)
    head_check.after_all(tree.size)
    entries.explain_moves()
    report.root = tree.root()
    if missing:
        report.problems.append(
            Problem(None, f"the append-only triggers are gone: {', '.join(missing)}")
        )
    if refused:
        report.warnings.append(
            f"the database refused {refused} attempted change(s) to the log since it "
            "was set up (see the log_tamper_attempt security events)"
        )
    return report


def _grow(
    tree: TileBuilder,
    leaves: Iterable[bytes],
    head_check: "_HeadCheck",
    progress: Callable[[int], None] | None,
) -> int:
    """Append leaves to the tree, checking each stored head as the tree reaches its size."""
    since_previous = head_check.since_previous
    wanted = head_check.wanted
    for leaf in leaves:
        tree.append(leaf)
        if head_check.previous is not None:
            since_previous.append(leaf)
        if tree.size == wanted:
            head_check.at_size(tree)
            since_previous = head_check.since_previous
            wanted = head_check.wanted
        if progress is not None and tree.size % 100_000 == 0:
            progress(tree.size)
    return tree.size
