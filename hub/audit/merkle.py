"""Merkle tree hashing of RFC 6962 / RFC 9162 section 2.1, with audit paths and consistency
proofs and their verifiers.

Hashes are raw 32-byte SHA-256 digests. Proofs are produced against a `node(lo, hi)` callable
that returns MTH(D[lo:hi]), so a caller can answer from whatever it holds: a list of leaf hashes
(`ListNodes`), or a stored compact range plus the leaves appended since (`ExtendedNodes`).
"""

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = SHA-256()

NodeHash = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof does not prove what it claims."""


def hash_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """k: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class CompactRange:
    """The perfect subtrees that cover leaves [0, size), largest first: O(log n) state that
    grows leaf by leaf, so a root over n leaves costs n - 1 node hashes and no leaf list."""

    __slots__ = ("nodes", "size")

    def __init__(self, size: int = 0, nodes: Sequence[bytes] = ()) -> None:
        if len(nodes) != bin(size).count("1"):
            raise ValueError("a compact range has one node per set bit of its size")
        self.size = size
        self.nodes = list(nodes)

    def append(self, leaf: bytes) -> None:
        nodes = self.nodes
        nodes.append(leaf)
        size = self.size
        sha256 = hashlib.sha256
        # Each trailing 1-bit of the old size is a left sibling that the new node completes.
        while size & 1:
            right = nodes.pop()
            nodes[-1] = sha256(b"\x01" + nodes[-1] + right).digest()
            size >>= 1
        self.size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        """MTH of the leaves so far: the subtrees folded right to left (RFC 9162 2.1.1)."""
        if not self.nodes:
            return EMPTY_ROOT
        root = self.nodes[-1]
        for left in reversed(self.nodes[:-1]):
            root = hash_children(left, root)
        return root

    def ranges(self) -> dict[tuple[int, int], bytes]:
        """{(lo, hi): hash} of each subtree."""
        out = {}
        lo = 0
        bits = [b for b in range(self.size.bit_length() - 1, -1, -1) if self.size >> b & 1]
        for bit, node in zip(bits, self.nodes, strict=True):
            out[(lo, lo + (1 << bit))] = node
            lo += 1 << bit
        return out

    def copy(self) -> "CompactRange":
        return CompactRange(self.size, self.nodes)

    def to_hex(self) -> str:
        return "".join(node.hex() for node in self.nodes)

    @classmethod
    def from_hex(cls, size: int, text: str) -> "CompactRange":
        raw = bytes.fromhex(text)
        return cls(size, [raw[i : i + HASH_SIZE] for i in range(0, len(raw), HASH_SIZE)])


def root(leaves: Iterable[bytes]) -> bytes:
    """MTH over leaf hashes, streamed."""
    compact = CompactRange()
    compact.extend(leaves)
    return compact.root()


class ListNodes:
    """node(lo, hi) over an in-memory list of leaf hashes."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.leaves = leaves

    def __call__(self, lo: int, hi: int) -> bytes:
        return root(self.leaves[lo:hi])


class ExtendedNodes:
    """node(lo, hi) for a tree that extends an older one of size m: subtrees of [0, m) come from
    the older tree's compact range (a consistency proof needs no others), subtrees of [m, n)
    from the newer leaves."""

    def __init__(self, older: CompactRange, newer: Sequence[bytes]) -> None:
        self.m = older.size
        self.older = older.ranges()
        self.newer = newer

    def __call__(self, lo: int, hi: int) -> bytes:
        if lo >= self.m:
            return root(self.newer[lo - self.m : hi - self.m])
        try:
            return self.older[(lo, hi)]
        except KeyError:
            raise ValueError(f"subtree [{lo}, {hi}) is not held") from None


# --- inclusion (RFC 9162 2.1.3) ---------------------------------------------------------------


def inclusion_proof(index: int, size: int, node: NodeHash) -> list[bytes]:
    """PATH(index, D[size]): the audit path, nearest sibling first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    path = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            path.append(node(lo + k, hi))
            hi = lo + k
        else:
            path.append(node(lo, lo + k))
            lo += k
    path.reverse()
    return path


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that `proof` leads to from `leaf` (RFC 9162 2.1.3.2); ProofError if malformed."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_sizes([leaf, *proof])
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the path")
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is shorter than the path")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes
) -> None:
    """Raise ProofError unless `proof` shows `leaf` at `index` in the tree `root_hash`."""
    if root_from_inclusion_proof(index, size, leaf, proof) != root_hash:
        raise ProofError("the inclusion proof does not lead to the root")


class SharedPaths:
    """Checks many leaves of one tree against its root, each climbing only until it meets a
    subtree that an earlier leaf's climb already led to the root: entries spread over a log
    share the upper half of their paths. A climb that reaches the root hashes the audit path
    (siblings from `node`) as verify_inclusion does; one that meets a proven subtree with the
    same hash is proven by that subtree's path, since the hashes above it are the same."""

    def __init__(self, size: int, node: NodeHash, root_hash: bytes) -> None:
        self.size = size
        self.node = node
        self.root_hash = root_hash
        self.proven: dict[tuple[int, int], bytes] = {}

    def check(self, index: int, leaf: bytes) -> None:
        """Raise ProofError unless `leaf` is at `index` in the tree."""
        if not 0 <= index < self.size:
            raise ProofError(f"leaf index {index} is outside a tree of size {self.size}")
        _check_sizes([leaf])
        # The subtrees holding the leaf, root first, and each one's sibling below it.
        spans: list[tuple[int, int]] = []
        lo, hi = 0, self.size
        while hi - lo > 1:
            spans.append((lo, hi))
            k = split_point(hi - lo)
            lo, hi = (lo, lo + k) if index < lo + k else (lo + k, hi)
        climbed: list[tuple[tuple[int, int], bytes]] = []
        node = leaf
        for lo, hi in reversed(spans):
            k = split_point(hi - lo)
            if index < lo + k:
                node = hash_children(node, self.node(lo + k, hi))
            else:
                node = hash_children(self.node(lo, lo + k), node)
            known = self.proven.get((lo, hi))
            if known is not None:
                if known != node:
                    raise ProofError("the inclusion proof does not lead to the root")
                break
            climbed.append(((lo, hi), node))
        else:
            if node != self.root_hash:
                raise ProofError("the inclusion proof does not lead to the root")
        self.proven.update(climbed)


# --- consistency (RFC 9162 2.1.4) -------------------------------------------------------------


def consistency_proof(m: int, n: int, node: NodeHash) -> list[bytes]:
    """PROOF(m, D[n]): shows the tree of size n extends the tree of size m."""
    if not 0 <= m <= n:
        raise ValueError(f"no consistency proof from size {m} to size {n}")
    if m in (0, n):
        return []
    proof = []
    lo, hi, complete = 0, n, True
    while m != hi - lo:
        k = split_point(hi - lo)
        if m <= k:
            proof.append(node(lo + k, hi))
            hi = lo + k
        else:
            proof.append(node(lo, lo + k))
            m -= k
            lo += k
            complete = False
    if not complete:
        proof.append(node(lo, hi))
    proof.reverse()
    return proof


def verify_consistency(m: int, n: int, proof: Sequence[bytes], first: bytes, second: bytes) -> None:
    """Raise ProofError unless `proof` shows the tree `second` (size n) extends `first` (size m)."""
    if not 0 <= m <= n:
        raise ProofError(f"a tree of size {n} cannot extend one of size {m}")
    _check_sizes([first, second, *proof])
    if m == n:
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if first != second:
            raise ProofError("equal sizes but different roots")
        return
    if m == 0:
        if proof:
            raise ProofError("the empty tree needs an empty proof")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if m & (m - 1) == 0:
        path.insert(0, first)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than the path")
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is shorter than the path")
    if fr != first:
        raise ProofError("the consistency proof does not lead to the first root")
    if sr != second:
        raise ProofError("the consistency proof does not lead to the second root")


def _check_sizes(hashes: Sequence[bytes]) -> None:
    if any(len(h) != HASH_SIZE for h in hashes):
        raise ProofError("a hash in the proof is not 32 bytes")


class TreeNodes:
    """node(lo, hi) over leaf hashes in memory, every perfect subtree hashed once: building costs
    n hashes, and then each inclusion proof in the tree costs O(log n) (ListNodes would rehash
    half the tree per proof). For proving many entries of one tree, e.g. an accounting."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.levels: list[list[bytes]] = [list(leaves)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append(
                [hash_children(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            )

    def __call__(self, lo: int, hi: int) -> bytes:
        size = hi - lo
        if size > 0 and size & (size - 1) == 0 and lo % size == 0:
            level = size.bit_length() - 1
            return self.levels[level][lo >> level]
        k = split_point(size)
        return hash_children(self(lo, lo + k), self(lo + k, hi))
