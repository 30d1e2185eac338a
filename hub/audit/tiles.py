"""The log's Merkle tree kept as tiles (C2SP tlog-tiles), so that a root, an inclusion proof or
a consistency proof reads O(log n) tiles instead of every leaf hash.

Tile `n` at level `l` holds up to 256 hashes: MTH(D[(256n + i) * 256**l : (256n + i + 1) *
256**l]) for i = 0..255. Level 0 holds the leaf hashes; each hash of level l + 1 is the root of
a full tile of level l. A tree of size s has, at each level, floor(s / 256**l) hashes: full
tiles, then a partial one (floor(s / 256**l) mod 256 hashes), and a partial tile is never
hashed into the level above. The checkpointer integrates new entries into the stored tiles in
the transaction that signs their head (hub.audit.checkpoint), so the tiles always cover the
newest signed head. Only the rightmost tile of a level is ever rewritten, and only by widening
it: a tile's first W hashes never change, which is why a partial tile of any width a checkpoint
needed can be served as a prefix of the stored one (hub.audit.routes).
"""

import hashlib
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, delete, insert, or_
from sqlmodel import Session, col, select

from hub.audit.log import leaf_data
from hub.audit.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    CompactRange,
    hash_children,
    split_point,
)
from hub.audit.models import LogEntry, LogTile

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
TILE_BYTES = TILE_WIDTH * HASH_SIZE
_WRITE_BATCH = 200  # tiles per INSERT (1.6 MB)
_READ_BATCH = 500  # tiles per SELECT

TileKey = tuple[int, int]  # (level, tile index)


class TilesMissing(LookupError):
    """The stored tiles do not hold a hash the tree asked for needs."""


def hashes_at(level: int, size: int) -> int:
    """How many hashes level `level` holds in a tree of `size` leaves."""
    return size >> (TILE_HEIGHT * level)


def split_hashes(data: bytes) -> list[bytes]:
    return [data[at : at + HASH_SIZE] for at in range(0, len(data), HASH_SIZE)]


def tile_levels(data: bytes) -> list[bytes]:
    """The subtrees inside one tile, each level's hashes end to end: [hashes, pairs, fours,
    ..., the root], as far as the tile's width allows (a partial tile's odd hash at a level
    has no parent there). A full tile's are remembered (`full_tile_levels`)."""
    if len(data) == TILE_BYTES:
        return full_tile_levels(data)
    return _hash_levels(data)


def _hash_levels(data: bytes) -> list[bytes]:
    sha256 = hashlib.sha256
    pair = 2 * HASH_SIZE
    levels = [data]
    below = data
    while len(below) >= pair:
        # Two sibling hashes lie end to end: one slice per parent, not two slices and a join.
        ends = len(below) // pair * pair
        below = b"".join(
            [sha256(b"\x01" + below[at : at + pair]).digest() for at in range(0, ends, pair)]
        )
        levels.append(below)
    return levels


# A full tile never changes, so the 255 hashes inside it are worth keeping: an accounting
# proves entries spread over the log, each alone in its level-0 tile, and without this pays
# 255 hashes per entry on every call. Keyed by the tile's bytes, not its place, so a tile
# stored differently (another database, a tampered row) is never answered from the cache; a
# partial tile is never kept. 1,024 tiles are about 17 MB. bench/bench_proofs.py empties it
# (cache_clear) to time an accounting that finds none of its tiles here.
full_tile_levels = lru_cache(maxsize=1024)(_hash_levels)


def tile_path(level: int | str, index: int, width: int = TILE_WIDTH) -> str:
    """`tile/<L>/<N>[.p/<W>]` of the specification: N in 3-digit elements, all but the last
    prefixed with x (1234067 -> x001/x234/067); `level` "entries" names an entry bundle."""
    digits = f"{index:03d}"
    digits = "0" * (-len(digits) % 3) + digits
    parts = [digits[at : at + 3] for at in range(0, len(digits), 3)]
    path = "/".join([*(f"x{part}" for part in parts[:-1]), parts[-1]])
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{level}/{path}{suffix}"


def parse_tile_path(path: str) -> tuple[str, int, int]:
    """(level, index, width) from `<L>/<N>[.p/<W>]` (what follows `tile/`), the level as given
    ("0".."63" or "entries"); ValueError unless the path is spelled exactly as the
    specification writes it."""
    level, _, rest = path.partition("/")
    if level != "entries" and not (
        level.isdigit() and str(int(level)) == level and int(level) < 64
    ):
        raise ValueError("not a tile level")
    width = TILE_WIDTH
    if ".p/" in rest:
        rest, _, spelled = rest.partition(".p/")
        if not spelled.isdigit() or str(int(spelled)) != spelled or not 1 <= int(spelled) < 256:
            raise ValueError("not a partial tile width")
        width = int(spelled)
    parts = rest.split("/")
    if not all(len(part) == 4 and part[0] == "x" for part in parts[:-1]) or len(parts[-1]) != 3:
        raise ValueError("not a tile index")
    digits = "".join(part.removeprefix("x") for part in parts)
    if not digits.isdigit() or (len(parts) > 1 and parts[0] == "x000"):
        raise ValueError("not a tile index")
    return level, int(digits), width


# --- growing the tree as tiles ----------------------------------------------------------------


class TileBuilder:
    """The tree grown leaf by leaf, level by level: each level keeps the compact range and the
    hashes of its rightmost (partial) tile; a tile that fills up is handed to `on_tile` and its
    root goes up a level. Every node is hashed once, as CompactRange does; `compact_range()`
    gives the whole tree's."""

    def __init__(self, on_tile: Callable[[int, int, bytes], None] | None = None) -> None:
        self.size = 0
        self.ranges: list[CompactRange] = [CompactRange()]
        self.partials: list[bytearray] = [bytearray()]
        self.indices: list[int] = [0]  # the index of each level's rightmost tile
        self.on_tile = on_tile

    @classmethod
    def resume(cls, size: int, partials: dict[int, bytes]) -> "TileBuilder":
        """A builder for a tree of `size` leaves whose partial tiles hold `partials`
        ({level: hashes}); their compact ranges are rehashed from them (at most 255 each)."""
        builder = cls()
        level = 0
        while level == 0 or hashes_at(level, size):
            if level:
                builder.ranges.append(CompactRange())
                builder.partials.append(bytearray())
                builder.indices.append(0)
            count = hashes_at(level, size)
            data = partials.get(level, b"")
            if len(data) != (count % TILE_WIDTH) * HASH_SIZE:
                raise TilesMissing(f"the partial tile of level {level} is not stored")
            builder.ranges[level].extend(split_hashes(data))
            builder.partials[level] += data
            builder.indices[level] = count // TILE_WIDTH
            level += 1
        builder.size = size
        return builder

    def append(self, leaf: bytes) -> None:
        self.size += 1
        self._add(0, leaf)

    def _add(self, level: int, node: bytes) -> None:
        compact = self.ranges[level]
        compact.append(node)
        self.partials[level] += node
        if compact.size == TILE_WIDTH:
            if self.on_tile is not None:
                self.on_tile(level, self.indices[level], bytes(self.partials[level]))
            self.ranges[level] = CompactRange()
            self.partials[level] = bytearray()
            self.indices[level] += 1
            if len(self.ranges) == level + 1:
                self.ranges.append(CompactRange())
                self.partials.append(bytearray())
                self.indices.append(0)
            self._add(level + 1, compact.nodes[0])

    def compact_range(self) -> CompactRange:
        nodes = [node for compact in reversed(self.ranges) for node in compact.nodes]
        return CompactRange(self.size, nodes)

    # CompactRange's reading side, so that a builder can stand in for one.
    def root(self) -> bytes:
        return self.compact_range().root() if self.size else EMPTY_ROOT

    def copy(self) -> CompactRange:
        return self.compact_range()


# --- the stored tiles ---------------------------------------------------------------------------


def covered_size(db: Session) -> int:
    """How many leaves the stored tiles cover (their level-0 tiles end there)."""
    last = db.exec(
        select(LogTile.tile_index, LogTile.width)
        .where(LogTile.level == 0)
        .order_by(col(LogTile.tile_index).desc())
        .limit(1)
    ).first()
    return 0 if last is None else int(last[0]) * TILE_WIDTH + int(last[1])


def read_tiles(db: Session, keys: Iterable[TileKey]) -> dict[TileKey, bytes]:
    wanted = sorted(set(keys))
    found: dict[TileKey, bytes] = {}
    for at in range(0, len(wanted), _READ_BATCH):
        by_level: dict[int, list[int]] = {}
        for level, index in wanted[at : at + _READ_BATCH]:
            by_level.setdefault(level, []).append(index)
        # A plain IN per level, not a row-value IN of (level, index) pairs: PostgreSQL plans
        # that as one ORed condition per pair, a third slower for an accounting's 500 tiles.
        rows = db.execute(
            select(LogTile.level, LogTile.tile_index, LogTile.hashes).where(
                or_(
                    *(
                        and_(col(LogTile.level) == level, col(LogTile.tile_index).in_(indices))
                        for level, indices in by_level.items()
                    )
                )
            )
        )
        for level, index, data in rows:
            found[(int(level), int(index))] = bytes(data)
    return found


def _partials_at(db: Session, size: int) -> dict[int, bytes]:
    """The hashes each level's partial tile holds at tree size `size`, read from the stored
    tiles (a tile stored wider, or full, holds them as its first hashes)."""
    widths = {}
    level = 0
    while hashes_at(level, size):
        count = hashes_at(level, size)
        if count % TILE_WIDTH:
            widths[(level, count // TILE_WIDTH)] = count % TILE_WIDTH
        level += 1
    stored = read_tiles(db, widths)
    partials = {}
    for (level, index), width in widths.items():
        data = stored.get((level, index), b"")[: width * HASH_SIZE]
        if len(data) != width * HASH_SIZE:
            raise TilesMissing(f"tile {level}/{index} is not stored as wide as size {size} needs")
        partials[level] = data
    return partials


class _TileWriter:
    """Writes tiles from `start` on: the first write at a level removes that level's tiles from
    the one holding `start` rightwards (the partial tile being rewritten wider, and anything
    past it that does not belong there)."""

    def __init__(self, db: Session, start: int) -> None:
        self.db = db
        self.start = start
        self.cleared: set[int] = set()
        self.rows: list[dict[str, Any]] = []

    def write(self, level: int, index: int, data: bytes) -> None:
        if level not in self.cleared:
            self.flush()
            first = hashes_at(level, self.start) // TILE_WIDTH
            self.db.execute(
                delete(LogTile).where(col(LogTile.level) == level, col(LogTile.tile_index) >= first)
            )
            self.cleared.add(level)
        self.rows.append(
            {"level": level, "tile_index": index, "width": len(data) // HASH_SIZE, "hashes": data}
        )
        if len(self.rows) >= _WRITE_BATCH:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.db.execute(insert(LogTile), self.rows)
            self.rows = []


def integrate(db: Session, start: int, leaves: Iterable[bytes]) -> TileBuilder:
    """Extends the stored tiles, which hold a tree of `start` leaves, with `leaves` (the leaf
    hashes from `start` on, streamed), in the caller's transaction. Returns the builder of the
    new tree: its root() is the root the tiles now give. TilesMissing when the stored tiles do
    not hold the tree of size `start`."""
    writer = _TileWriter(db, start)
    builder = TileBuilder.resume(start, _partials_at(db, start) if start else {})
    builder.on_tile = writer.write
    for leaf in leaves:
        builder.append(leaf)
    for level, partial in enumerate(builder.partials):
        grown = hashes_at(level, builder.size) > hashes_at(level, start)
        if partial and grown:
            writer.write(level, builder.indices[level], bytes(partial))
    writer.flush()
    return builder


# --- proofs from the tiles ----------------------------------------------------------------------


def _place(lo: int, size: int) -> tuple[TileKey, int, int]:
    """Where the perfect subtree [lo, lo + size) is: its tile, the level inside the tile, and
    its position at that level."""
    height = size.bit_length() - 1
    level, inner = divmod(height, TILE_HEIGHT)
    at = lo >> (TILE_HEIGHT * level)
    return (level, at >> TILE_HEIGHT), inner, (at & (TILE_WIDTH - 1)) >> inner


class TileNodes:
    """node(lo, hi) (see hub.audit.merkle) from the stored tiles, for a tree they cover. Each
    tile is read once and its inner subtrees hashed once; `prefetch` reads every tile some
    proofs need in one query."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.tiles: dict[TileKey, list[bytes]] = {}
        self.edges: dict[tuple[int, int], bytes] = {}

    def __call__(self, lo: int, hi: int) -> bytes:
        size = hi - lo
        if size <= 0:
            raise ValueError(f"no subtree [{lo}, {hi})")
        if size & (size - 1) == 0 and lo % size == 0:
            key, inner, position = _place(lo, size)
            if key not in self.tiles:
                self.load([key])
            levels = self.tiles.get(key, [])
            at = position * HASH_SIZE
            held = levels[inner][at : at + HASH_SIZE] if inner < len(levels) else b""
            if len(held) != HASH_SIZE:
                raise TilesMissing(f"subtree [{lo}, {hi}) is not in the stored tiles")
            return held
        # A subtree at the tree's right edge: the same one recurs in every proof of the tree.
        node = self.edges.get((lo, hi))
        if node is None:
            k = split_point(size)
            node = self.edges[(lo, hi)] = hash_children(self(lo, lo + k), self(lo + k, hi))
        return node

    def compact_range(self, size: int) -> CompactRange:
        """The perfect subtrees covering the first `size` leaves, largest first."""
        nodes, lo = [], 0
        for bit in range(size.bit_length() - 1, -1, -1):
            if size >> bit & 1:
                nodes.append(self(lo, lo + (1 << bit)))
                lo += 1 << bit
        return CompactRange(size, nodes)

    def load(self, keys: Iterable[TileKey]) -> None:
        missing = [key for key in keys if key not in self.tiles]
        for key, data in read_tiles(self.db, missing).items():
            self.tiles[key] = tile_levels(data)

    def prefetch(self, size: int, indices: Iterable[int]) -> None:
        """Reads at once the tiles the inclusion proofs of `indices` in a tree of `size` use:
        at each level, the tile holding the entry's ancestor (its siblings on the path) and the
        partial tile (the subtrees at the tree's right edge). A tile missed here is read when a
        proof asks for it."""
        keys: set[TileKey] = set()
        for index in indices:
            level = 0
            while count := hashes_at(level, size):
                keys.add((level, hashes_at(level, index) // TILE_WIDTH))
                if count % TILE_WIDTH:
                    keys.add((level, count // TILE_WIDTH))
                level += 1
        self.load(keys)


# --- what the log serves (hub.audit.routes) -----------------------------------------------------


def served_tile(db: Session, level: int, index: int, width: int, size: int) -> bytes | None:
    """Tile `level`/`index` of width `width` as a tree of `size` leaves holds it, or None when
    that tree has no such tile (or the tiles do not reach it yet)."""
    if index * TILE_WIDTH + width > hashes_at(level, size):
        return None
    data = read_tiles(db, [(level, index)]).get((level, index), b"")[: width * HASH_SIZE]
    return data if len(data) == width * HASH_SIZE else None


def entry_bundle(db: Session, index: int, width: int, size: int) -> bytes | None:
    """Entry bundle `index` of width `width` of a tree of `size` leaves: each entry as its leaf
    data (the public part and the personal digest, never the personal part: hub.audit.log),
    big-endian uint16 length first, so that each hashes to its level-0 tile hash."""
    first = index * TILE_WIDTH
    if first + width > size:
        return None
    entries = db.exec(
        select(LogEntry)
        .where(col(LogEntry.seq) >= first, col(LogEntry.seq) < first + width)
        .order_by(col(LogEntry.seq))
    ).all()
    if [entry.seq for entry in entries] != list(range(first, first + width)):
        return None
    bundle = bytearray()
    for entry in entries:
        data = leaf_data(entry)
        bundle += len(data).to_bytes(2, "big") + data
    return bytes(bundle)
