"""The log's tree kept as tlog tiles (hub/audit/tiles.py): proofs cost their size, not the log's;
`hub audit verify` checks every stored tile; and /log/ serves the checkpoint, tiles and entry
bundles so that a client written from the C2SP specification (tests/tlog_client.py) can follow
the log and check that it only grew."""

import hashlib
import json
from collections.abc import Iterator
from typing import cast

import pytest
from sqlalchemy import delete, event, text, update
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from hub.audit import checkpoint, tiles
from hub.audit.checkpoint import sign_checkpoint, verifier_key
from hub.audit.log import PUBLIC_FIELDS, append_many
from hub.audit.merkle import TreeNodes, consistency_proof, inclusion_proof, root
from hub.audit.models import LogTile
from hub.audit.receipts import NoReceipt, build_receipt
from hub.audit.tiles import TileBuilder, covered_size, parse_tile_path, tile_path
from hub.cli import app as cli
from hub.privacy.accounting import verify_entries
from tests.audit_support import disclosure, drop_triggers, verify
from tests.tlog_client import (
    Follower,
    Invalid,
    check_consistency,
    check_inclusion,
)
from tests.tlog_client import (
    tile_path as client_tile_path,
)


def add_many(db: Session, count: int, start: int = 0) -> None:
    actor, _ = disclosure(0)
    append_many(db, actor, [disclosure(start + n)[1] for n in range(count)])
    db.commit()


def signed(db: Session) -> int:
    head = sign_checkpoint(db)
    db.commit()
    assert head is not None
    return head.tree_size


def leaves(count: int) -> list[bytes]:
    return [hashlib.sha256(str(n).encode()).digest() for n in range(count)]


def test_a_tree_of_70000_is_the_tiles_the_specification_names():
    # tlog-tiles: "273 full level 0 tiles, one partial level 0 tile of width 112, one full
    # level 1 tile, one partial level 1 tile of width 17, and one partial level 2 tile of
    # width 1".
    full: list[tuple[int, int]] = []
    builder = TileBuilder(on_tile=lambda level, index, data: full.append((level, index)))
    hashes = leaves(70_000)
    for leaf in hashes:
        builder.append(leaf)
    assert sorted(full) == [*((0, n) for n in range(273)), (1, 0)]
    assert [len(partial) // 32 for partial in builder.partials] == [112, 17, 1]
    assert builder.root() == root(hashes)


@pytest.mark.parametrize("size", [1, 255, 256, 257, 65_536, 65_537])
def test_a_builder_resumed_from_partial_tiles_grows_the_same_tree(size):
    hashes = leaves(size + 300)
    builder = TileBuilder()
    for leaf in hashes[:size]:
        builder.append(leaf)
    resumed = TileBuilder.resume(size, {n: bytes(p) for n, p in enumerate(builder.partials)})
    for leaf in hashes[size:]:
        resumed.append(leaf)
    assert resumed.root() == root(hashes)


def test_proofs_from_tiles_are_the_proofs_from_leaves_and_read_tiles_once(monkeypatch):
    hashes = leaves(70_000)
    stored: dict[tuple[int, int], bytes] = {}
    builder = TileBuilder(on_tile=lambda level, index, data: stored.update({(level, index): data}))
    for leaf in hashes:
        builder.append(leaf)
    for level, partial in enumerate(builder.partials):
        stored[(level, builder.indices[level])] = bytes(partial)
    reads: list[list[tuple[int, int]]] = []

    def read_tiles(db, keys):
        reads.append(list(keys))
        return {key: stored[key] for key in keys if key in stored}

    monkeypatch.setattr(tiles, "read_tiles", read_tiles)
    for size in (70_000, 65_537, 1_000):  # smaller trees read the same tiles' first hashes
        indices = [0, 255, 256, 40_000 % size, size - 1]
        reference = TreeNodes(hashes[:size])
        nodes = tiles.TileNodes(cast(Session, None))  # read_tiles above reads no database
        nodes.prefetch(size, indices)
        reads.clear()
        for index in indices:
            assert inclusion_proof(index, size, nodes) == inclusion_proof(index, size, reference)
        assert reads == [], "the prefetch missed a tile the proofs needed"
        for older in (1, 256, 700):  # tiles read as asked for
            assert consistency_proof(older, size, nodes) == consistency_proof(
                older, size, reference
            )
        assert nodes(0, size) == root(hashes[:size])
        assert nodes.compact_range(size).root() == root(hashes[:size])


def test_tile_paths_are_spelled_as_the_specification_writes_them():
    assert tile_path(0, 1_234_067) == "tile/0/x001/x234/067"
    assert tile_path("entries", 5, 3) == "tile/entries/005.p/3"
    assert client_tile_path("1", 1_000, 256) == tile_path(1, 1_000) == "tile/1/x001/000"
    assert parse_tile_path("0/x001/x234/067") == ("0", 1_234_067, 256)
    assert parse_tile_path("entries/005.p/3") == ("entries", 5, 3)
    for wrong in ("0/5", "00/005", "64/005", "0/x000/005", "0/005.p/256", "0/005.p/0", "a/005"):
        with pytest.raises(ValueError):
            parse_tile_path(wrong)


def test_a_receipt_and_an_accounting_read_tiles_not_every_leaf(db):
    # Issue 19: both read every leaf hash from 0 to the tree size (seconds at a million).
    add_many(db, 700)
    size = signed(db)
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.get_bind(), "before_cursor_execute", seen)
    try:
        receipt = build_receipt(db, 300)
        integrity = verify_entries(db, [5, 300, 699])
    finally:
        event.remove(db.get_bind(), "before_cursor_execute", seen)
    assert receipt["tree_size"] == size == 700
    assert (integrity.checked, integrity.problems) == (3, [])
    assert not [s for s in statements if "log_entry.seq >=" in s], "a range of leaves was read"
    assert len(statements) < 20


def test_tiles_are_written_with_the_checkpoint_or_not_at_all(db):
    add_many(db, 300)
    sign_checkpoint(db)
    db.rollback()
    assert covered_size(db) == 0
    assert signed(db) == 300
    assert covered_size(db) == 300
    assert verify(db).tiles == 3  # tile 0/0, the partial 0/1 (44 hashes), the partial 1/0


def test_a_log_signed_before_it_had_tiles_gets_them_at_the_next_checkpoint(db):
    add_many(db, 400)
    signed(db)
    db.execute(delete(LogTile))  # as after migration 0006tile
    db.commit()
    assert "the tiles cover 0 of the 400 entries signed" in " ".join(verify(db).warnings)
    assert build_receipt(db, 10)["tree_size"] == 400  # from the leaves meanwhile
    add_many(db, 200, 400)
    assert signed(db) == 600
    assert covered_size(db) == 600
    report = verify(db)
    assert (report.ok, report.warnings, report.tiles) == (True, [], 4)


def test_verify_names_a_stored_tile_that_does_not_match_the_leaves(db):
    add_many(db, 600)
    signed(db)
    tile = db.exec(select(LogTile).where(LogTile.level == 0, LogTile.tile_index == 1)).one()
    forged = bytes(32) + tile.hashes[32:]
    db.execute(
        update(LogTile)
        .where(col(LogTile.level) == 0, col(LogTile.tile_index) == 1)
        .values(hashes=forged)
    )
    db.execute(delete(LogTile).where(col(LogTile.level) == 0, col(LogTile.tile_index) == 0))
    db.commit()
    report = verify(db)
    assert [str(p) for p in report.problems] == [
        "the stored tile 0/0 (entries 0..255) is missing",
        "the stored tile 0/1 (entries 256..511) does not hold the hashes its entries make",
    ]
    # A receipt is never built from the forged tile: its proof would not reach the root; nor
    # from a missing one. The accounting names both entries unproven.
    for seq in (300, 5):
        with pytest.raises(NoReceipt, match="cannot be proven"):
            build_receipt(db, seq)
    assert verify_entries(db, [5, 300, 599]).problems == [
        "entry 5 cannot be proven: the log's stored tiles are incomplete",
        "entry 300 is not in the signed tree as it stands",
    ]


def test_a_remembered_full_tile_never_vouches_for_a_forged_copy_nor_a_partial_one(db):
    # Full tiles' inner hashes are kept between calls (tiles.full_tile_levels), by content.
    add_many(db, 600)
    signed(db)
    tiles.full_tile_levels.cache_clear()
    build_receipt(db, 550)  # its tiles at size 600: partial 0/2 and 1/0, never kept
    assert tiles.full_tile_levels.cache_info().currsize == 0
    build_receipt(db, 300)  # full tile 0/1
    assert tiles.full_tile_levels.cache_info().currsize == 1
    tile = db.exec(select(LogTile).where(LogTile.level == 0, LogTile.tile_index == 1)).one()
    forged = tile.hashes[:-32] + bytes(32)  # entry 511's hash, not on entry 300's path
    db.execute(
        update(LogTile)
        .where(col(LogTile.level) == 0, col(LogTile.tile_index) == 1)
        .values(hashes=forged)
    )
    db.commit()
    with pytest.raises(NoReceipt, match="cannot be proven"):
        build_receipt(db, 300)
    assert verify_entries(db, [300]).problems == [
        "entry 300 is not in the signed tree as it stands"
    ]


def test_a_tlog_client_follows_the_log_over_http(db, client):
    def fetch(path: str) -> bytes:
        response = client.get(f"/log/{path}")
        if response.status_code != 200:
            raise Invalid(f"{path}: {response.status_code}")
        return response.content

    follower = Follower(fetch, verifier_key())
    assert client.get("/log/checkpoint").status_code == 404  # nothing signed yet
    add_many(db, 300)
    signed(db)
    older = follower.checkpoint()
    assert client.get("/log/checkpoint").headers["content-type"] == "text/plain; charset=utf-8"
    add_many(db, 600, 300)
    signed(db)
    newer = follower.checkpoint()
    assert (older.size, newer.size) == (300, 900)

    proof = follower.consistency_proof(older.size, newer.size)
    check_consistency(older.size, newer.size, proof, older.root, newer.root)
    with pytest.raises(Invalid):
        check_consistency(older.size, newer.size, proof, bytes(32), newer.root)
    # The partial tiles the older checkpoint needs are still served (tile 0/1 at width 44).
    assert Follower(fetch, verifier_key()).mth(0, older.size, older.size) == older.root

    bundle = follower.entries(1, newer.size)  # entries 256..511, checked against tile 0/1
    entry = bundle[261 - 256]
    check_inclusion(
        261,
        newer.size,
        hashlib.sha256(b"\x00" + entry).digest(),
        follower.inclusion_proof(261, newer.size),
        newer.root,
    )
    # Each entry's public part and personal digest only: no who, about whom, from where.
    assert set(json.loads(entry)) == {*PUBLIC_FIELDS, "personal_digest"}
    assert json.loads(entry)["seq"] == 261
    assert not any(b"req-" in e or b"10.0.0." in e or b"consent:" in e for e in bundle)
    assert len(follower.entries(3, newer.size)) == 900 - 768  # the partial bundle

    for beyond in ("tile/0/004", "tile/0/003", "tile/entries/004", "tile/2/000", "tile/0/3"):
        assert client.get(f"/log/{beyond}").status_code == 404, beyond
    plain = client.get("/log/tile/entries/001", headers={"accept-encoding": "identity"})
    packed = client.get("/log/tile/entries/001", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.content == plain.content  # decompressed by the client
    assert int(packed.headers["content-length"]) < len(plain.content) // 2
    response = client.get("/log/tile/0/001.p/44")
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.content == client.get("/log/tile/0/001").content[: 44 * 32]


def test_a_forged_partial_tile_is_rebuilt_at_the_next_checkpoint(db, caplog):
    add_many(db, 300)
    signed(db)
    db.execute(
        update(LogTile)
        .where(col(LogTile.level) == 0, col(LogTile.tile_index) == 1)
        .values(hashes=bytes(44 * 32))
    )
    db.commit()
    assert not verify(db).ok
    add_many(db, 10, 300)
    assert signed(db) == 310  # the checkpointer keeps signing
    assert "the log's tiles do not give the root being signed" in caplog.text
    report = verify(db)
    assert (report.ok, report.tiles) == (True, 3)
    assert build_receipt(db, 299)["tree_size"] == 310


def test_a_head_kept_without_its_compact_range_is_extended_from_the_tiles(db, monkeypatch):
    # A decision's binding signs a checkpoint in its transaction: it must not read the log
    # from its first entry when the last head has no compact range (one signed before they
    # were kept).
    add_many(db, 600)
    signed(db)
    drop_triggers(db)
    db.execute(text("UPDATE tree_head SET compact_range = NULL"))
    db.commit()
    add_many(db, 5, 600)
    ranges: list[tuple[int, int]] = []
    read = checkpoint.leaf_hashes

    def reading(db: Session, lo: int, hi: int) -> Iterator[bytes]:
        ranges.append((lo, hi))
        return read(db, lo, hi)

    monkeypatch.setattr(checkpoint, "leaf_hashes", reading)
    assert signed(db) == 605
    assert ranges == [(600, 605)]


def test_hub_audit_consistency_proves_from_the_tiles_and_refuses_sizes_past_the_log(db):
    add_many(db, 300)
    older = signed(db)
    add_many(db, 20, 300)
    newer = signed(db)
    db.commit()  # SQLite: end the read transaction (hub.db begins them IMMEDIATE)
    runner = CliRunner()
    result = runner.invoke(cli, ["audit", "consistency", str(older), str(newer)])
    assert result.exit_code == 0, result.output
    nodes = tiles.TileNodes(db)
    proof = [bytes.fromhex(node) for node in json.loads(result.output)]
    check_consistency(older, newer, proof, nodes(0, older), nodes(0, newer))
    db.commit()
    result = runner.invoke(cli, ["audit", "consistency", "3", "999"])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # an error message, not a traceback
    assert "error: no proof: log entry 320 is missing" in result.output
