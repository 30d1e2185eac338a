"""RFC 6962 / RFC 9162 Merkle hashing against the test vectors of the Certificate Transparency
reference implementations (transparency-dev/merkle proof/verify_test.go, the 8 leaves of
google/certificate-transparency), and against every tampering of a proof we can think of."""

import itertools

import pytest

from hub.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    ExtendedNodes,
    ListNodes,
    ProofError,
    SharedPaths,
    TreeNodes,
    consistency_proof,
    hash_leaf,
    inclusion_proof,
    root,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex

LEAVES = [
    h(""),
    h("00"),
    h("10"),
    h("2021"),
    h("3031"),
    h("40414243"),
    h("5051525354555657"),
    h("606162636465666768696a6b6c6d6e6f"),
]
LEAF_HASHES = [hash_leaf(leaf) for leaf in LEAVES]
ROOTS = [  # MTH of the first 1..8 leaves
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]
INCLUSION = [  # (leaf index, tree size, audit path)
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (0, 1, []),
]
CONSISTENCY = [  # (size 1, size 2, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")


def test_empty_tree_root_is_sha256_of_nothing():
    assert root([]) == EMPTY_ROOT
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_reference_vectors(size):
    assert root(LEAF_HASHES[:size]) == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_proofs_match_the_reference_vectors(index, size, path):
    proof = inclusion_proof(index, size, ListNodes(LEAF_HASHES[:size]))
    assert [p.hex() for p in proof] == path
    verify_inclusion(index, size, LEAF_HASHES[index], proof, ROOTS[size - 1])


@pytest.mark.parametrize(("m", "n", "path"), CONSISTENCY)
def test_consistency_proofs_match_the_reference_vectors(m, n, path):
    proof = consistency_proof(m, n, ListNodes(LEAF_HASHES[:n]))
    assert [p.hex() for p in proof] == path
    verify_consistency(m, n, proof, ROOTS[m - 1], ROOTS[n - 1])


def flip(value, bit):
    changed = bytearray(value)
    changed[bit // 8] ^= 1 << bit % 8
    return bytes(changed)


def flipped(proof, i, bit):
    return [flip(p, bit) if j == i else p for j, p in enumerate(proof)]


def inclusion_tamperings(index, size, proof, leaf, root_hash):
    yield "index - 1", (index - 1, size, leaf, proof, root_hash)
    yield "index + 1", (index + 1, size, leaf, proof, root_hash)
    yield "index ^ 2", (index ^ 2, size, leaf, proof, root_hash)
    yield "size * 2", (index, size * 2, leaf, proof, root_hash)
    yield "size // 2", (index, size // 2, leaf, proof, root_hash)
    yield "wrong leaf", (index, size, SOME_HASH, proof, root_hash)
    yield "empty root", (index, size, leaf, proof, EMPTY_ROOT)
    yield "other root", (index, size, leaf, proof, SOME_HASH)
    yield "trailing garbage", (index, size, leaf, [*proof, b""], root_hash)
    yield "trailing root", (index, size, leaf, [*proof, root_hash], root_hash)
    yield "preceding garbage", (index, size, leaf, [b"", *proof], root_hash)
    yield "preceding root", (index, size, leaf, [root_hash, *proof], root_hash)
    if proof:
        yield "removed component", (index, size, leaf, proof[:-1], root_hash)
    if len(proof) > 1:
        yield (
            "inserted component",
            (index, size, leaf, [proof[0], SOME_HASH, *proof[1:]], root_hash),
        )
    for i, bit in itertools.product(range(len(proof)), range(256)):
        yield f"proof[{i}] bit {bit}", (index, size, leaf, flipped(proof, i, bit), root_hash)
    for bit in range(256):
        yield f"leaf bit {bit}", (index, size, flip(leaf, bit), proof, root_hash)
        yield f"root bit {bit}", (index, size, leaf, proof, flip(root_hash, bit))


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_every_tampered_inclusion_proof_fails(index, size, path):
    proof = [h(p) for p in path]
    for what, args in inclusion_tamperings(index, size, proof, LEAF_HASHES[index], ROOTS[size - 1]):
        with pytest.raises(ProofError):
            verify_inclusion(*args)
            pytest.fail(f"verified after {what}")


def test_every_wrong_index_fails():
    for size in range(1, 9):
        for index in range(size):
            proof = inclusion_proof(index, size, ListNodes(LEAF_HASHES[:size]))
            for other in range(-1, 10):
                if other != index:
                    with pytest.raises(ProofError):
                        verify_inclusion(other, size, LEAF_HASHES[index], proof, ROOTS[size - 1])


def consistency_tamperings(m, n, proof, first, second):
    yield "m - 1", (m - 1, n, proof, first, second)
    yield "m + 1", (m + 1, n, proof, first, second)
    yield "m ^ 2", (m ^ 2, n, proof, first, second)
    yield "n * 2", (m, n * 2, proof, first, second)
    yield "n // 2", (m, n // 2, proof, first, second)
    yield "wrong first", (m, n, proof, SOME_HASH, second)
    yield "wrong second", (m, n, proof, first, SOME_HASH)
    yield "swapped roots", (m, n, proof, second, first)
    yield "empty proof", (m, n, [], first, second)
    yield "trailing garbage", (m, n, [*proof, b""], first, second)
    yield "trailing first", (m, n, [*proof, first], first, second)
    yield "trailing second", (m, n, [*proof, second], first, second)
    yield "preceding garbage", (m, n, [b"", *proof], first, second)
    yield "preceding first", (m, n, [first, *proof], first, second)
    yield "preceding second", (m, n, [second, *proof], first, second)
    yield "preceding proof[0]", (m, n, [proof[0], *proof], first, second)
    yield "truncated", (m, n, proof[:-1], first, second)
    for i, bit in itertools.product(range(len(proof)), range(256)):
        yield f"proof[{i}] bit {bit}", (m, n, flipped(proof, i, bit), first, second)


@pytest.mark.parametrize(("m", "n", "path"), [c for c in CONSISTENCY if c[2]])
def test_every_tampered_consistency_proof_fails(m, n, path):
    proof = [h(p) for p in path]
    for what, args in consistency_tamperings(m, n, proof, ROOTS[m - 1], ROOTS[n - 1]):
        with pytest.raises(ProofError):
            verify_consistency(*args)
            pytest.fail(f"verified after {what}")


@pytest.mark.parametrize(
    ("m", "n", "proof", "first", "second", "good"),
    [
        (0, 0, [], ROOTS[0], ROOTS[0], True),
        (0, 0, [], ROOTS[0], ROOTS[1], False),
        (0, 1, [], ROOTS[0], ROOTS[1], True),
        (1, 1, [], ROOTS[1], ROOTS[1], True),
        (1, 1, [], ROOTS[0], ROOTS[1], False),
        (1, 0, [], ROOTS[0], ROOTS[1], False),
        (2, 1, [], ROOTS[0], ROOTS[1], False),
        (1, 2, [], ROOTS[0], ROOTS[1], False),
        (0, 0, [EMPTY_ROOT], EMPTY_ROOT, EMPTY_ROOT, False),
        (0, 1, [EMPTY_ROOT], EMPTY_ROOT, EMPTY_ROOT, False),
        (1, 1, [EMPTY_ROOT], EMPTY_ROOT, EMPTY_ROOT, False),
    ],
)
def test_consistency_edge_cases(m, n, proof, first, second, good):
    if good:
        verify_consistency(m, n, proof, first, second)
    else:
        with pytest.raises(ProofError):
            verify_consistency(m, n, proof, first, second)


def test_proofs_round_trip_for_every_size_up_to_70():
    leaves = [hash_leaf(i.to_bytes(4, "big")) for i in range(70)]
    roots = [root(leaves[:n]) for n in range(71)]
    for n in range(1, 71):
        nodes = ListNodes(leaves[:n])
        for index in range(n):
            verify_inclusion(index, n, leaves[index], inclusion_proof(index, n, nodes), roots[n])
        for m in range(n + 1):
            verify_consistency(m, n, consistency_proof(m, n, nodes), roots[m], roots[n])


def test_shared_paths_prove_what_each_audit_path_proves_in_any_order():
    leaves = [hash_leaf(i.to_bytes(4, "big")) for i in range(70)]
    wrong = hash_leaf(b"not logged")
    for n in (1, 2, 5, 64, 70):
        good = SharedPaths(n, TreeNodes(leaves[:n]), root(leaves[:n]))
        # Middle first, then the ends, each leaf twice: climbs meet earlier ones anywhere.
        for index in [*range(n // 2, n), *range(n // 2), *reversed(range(n))]:
            good.check(index, leaves[index])
            for other in {wrong, leaves[(index + 1) % n]} - {leaves[index]}:
                with pytest.raises(ProofError):
                    good.check(index, other)
        with pytest.raises(ProofError):
            good.check(n, leaves[0])
    # A wrong root proves nothing, however many leaves were tried before.
    forged = SharedPaths(70, TreeNodes(leaves), root(leaves[:69]))
    for index in (0, 35, 69):
        with pytest.raises(ProofError):
            forged.check(index, leaves[index])
    # A wrong node (a forged tile) fails the leaves under it and only them.
    nodes = TreeNodes(leaves)
    nodes.levels[3][2] = wrong  # the subtree [16, 24)
    shared = SharedPaths(70, nodes, root(leaves))
    shared.check(20, leaves[20])  # climbs through [16, 24), never asks for it
    for index in (24, 31):  # the leaves whose audit paths hold it
        with pytest.raises(ProofError):
            shared.check(index, leaves[index])
    for index in (0, 23, 32, 69):
        shared.check(index, leaves[index])


def test_a_consistency_proof_needs_only_the_older_compact_range_and_the_newer_leaves():
    leaves = [hash_leaf(i.to_bytes(4, "big")) for i in range(70)]
    for n in range(1, 71):
        for m in range(n + 1):
            older = CompactRange()
            older.extend(leaves[:m])
            proof = consistency_proof(m, n, ExtendedNodes(older, leaves[m:n]))
            assert proof == consistency_proof(m, n, ListNodes(leaves[:n]))


def test_compact_range_round_trips_through_hex():
    compact = CompactRange()
    compact.extend(LEAF_HASHES[:7])
    again = CompactRange.from_hex(7, compact.to_hex())
    assert again.root() == ROOTS[6]
    again.append(LEAF_HASHES[7])
    assert again.root() == ROOTS[7]
    with pytest.raises(ValueError):
        CompactRange(7, compact.nodes[:2])
