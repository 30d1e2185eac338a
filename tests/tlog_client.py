"""A transparency-log client written from the C2SP specifications alone (tlog-tiles,
tlog-checkpoint, signed-note; RFC 6962 / RFC 9162 for the hashing and the proofs), sharing no
code with the hub: what a monitor, a witness or a defender's office would run against
/log/. It only fetches resources over HTTP and checks them against signed checkpoints."""

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

Fetch = Callable[[str], bytes]  # GET <prefix>/<path>; raises on anything but 200


class Invalid(Exception):
    """The log served something its checkpoints do not back."""


def _leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes


def open_checkpoint(note: bytes, verifier_key: str) -> Checkpoint:
    """signed-note: the text, a blank line, signature lines `— <name> <base64(id || sig)>`;
    the verifier key is `<name>+<hex id>+<base64(0x01 || Ed25519 public key)>`."""
    name, key_hash, encoded = verifier_key.split("+", 2)
    raw = base64.b64decode(encoded)
    if raw[:1] != b"\x01":
        raise Invalid("not an Ed25519 verifier key")
    text, separator, signatures = note.decode().rpartition("\n\n")
    if not separator:
        raise Invalid("not a signed note")
    text += "\n"
    for line in signatures.splitlines():
        dash, signer, signature = line.split(" ")
        blob = base64.b64decode(signature)
        if dash == "\u2014" and signer == name and blob[:4].hex() == key_hash:
            try:
                Ed25519PublicKey.from_public_bytes(raw[1:]).verify(blob[4:], text.encode())
            except Exception as exc:
                raise Invalid("the checkpoint's signature does not verify") from exc
            origin, size, root = text.splitlines()[:3]
            return Checkpoint(origin, int(size), base64.b64decode(root))
    raise Invalid("the checkpoint carries no signature by this key")


def tile_path(level: str, index: int, width: int) -> str:
    """tlog-tiles: N as zero-padded 3-digit elements, all but the last prefixed with x."""
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    elements = [f"x{group}" for group in reversed(groups[1:])] + [groups[0]]
    return f"tile/{level}/{'/'.join(elements)}" + ("" if width == 256 else f".p/{width}")


class Follower:
    """Follows one log: its tiles at a given tree size, and proofs computed from them."""

    def __init__(self, fetch: Fetch, verifier_key: str) -> None:
        self.fetch = fetch
        self.verifier_key = verifier_key
        self.tiles: dict[tuple[int, int, int], list[bytes]] = {}

    def checkpoint(self) -> Checkpoint:
        return open_checkpoint(self.fetch("checkpoint"), self.verifier_key)

    def tile(self, level: int, index: int, size: int) -> list[bytes]:
        """Tile level/index as a tree of `size` leaves holds it (partial at its right edge)."""
        width = min(256, (size >> (8 * level)) - 256 * index)
        if width <= 0:
            raise Invalid(f"a tree of {size} has no tile {level}/{index}")
        key = (level, index, width)
        if key not in self.tiles:
            data = self.fetch(tile_path(str(level), index, width))
            if len(data) != 32 * width:
                raise Invalid(f"tile {level}/{index} is not {width} hashes")
            self.tiles[key] = [data[at : at + 32] for at in range(0, len(data), 32)]
        return self.tiles[key]

    def mth(self, lo: int, hi: int, size: int) -> bytes:
        """MTH(D[lo:hi]) from the tiles of the tree of `size`: a subtree of 256**l * 2**j
        leaves aligned on its size is 2**j consecutive hashes of level l, hashed up."""
        n = hi - lo
        if n & (n - 1) == 0 and lo % n == 0:
            level = 0
            while n >= 256 ** (level + 1):
                level += 1
            count = n // 256**level
            first = lo // 256**level
            hashes = self.tile(level, first // 256, size)[first % 256 : first % 256 + count]
            while len(hashes) > 1:
                hashes = [_node(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
            return hashes[0]
        k = _largest_power_of_two_below(n)
        return _node(self.mth(lo, lo + k, size), self.mth(lo + k, hi, size))

    def entries(self, index: int, size: int) -> list[bytes]:
        """Entry bundle `index` of the tree of `size`, each entry checked against its hash in
        the level-0 tile."""
        width = min(256, size - 256 * index)
        data = self.fetch(tile_path("entries", index, width))
        entries = []
        while data:
            length = int.from_bytes(data[:2], "big")
            entries.append(data[2 : 2 + length])
            data = data[2 + length :]
        hashes = self.tile(0, index, size)
        if [_leaf(entry) for entry in entries] != hashes:
            raise Invalid(f"entry bundle {index} does not hash to its tile")
        return entries

    # --- RFC 9162 2.1.3 and 2.1.4: proofs built from the tiles, and checked -------------------

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        def path(m: int, lo: int, hi: int) -> list[bytes]:
            n = hi - lo
            if n == 1:
                return []
            k = _largest_power_of_two_below(n)
            if m < k:
                return [*path(m, lo, lo + k), self.mth(lo + k, hi, size)]
            return [*path(m - k, lo + k, hi), self.mth(lo, lo + k, size)]

        return path(index, 0, size)

    def consistency_proof(self, m: int, n: int) -> list[bytes]:
        def subproof(m: int, lo: int, hi: int, whole: bool) -> list[bytes]:
            if m == hi - lo:
                return [] if whole else [self.mth(lo, hi, n)]
            k = _largest_power_of_two_below(hi - lo)
            if m <= k:
                return [*subproof(m, lo, lo + k, whole), self.mth(lo + k, hi, n)]
            return [*subproof(m - k, lo + k, hi, False), self.mth(lo, lo + k, n)]

        return subproof(m, 0, n, True)


def check_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> None:
    if index >= size:
        raise Invalid("the entry is outside the tree")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise Invalid("the inclusion proof is too long")
        if fn % 2 == 1 or fn == sn:
            r = _node(p, r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn // 2, sn // 2
        else:
            r = _node(r, p)
        fn, sn = fn // 2, sn // 2
    if sn != 0 or r != root:
        raise Invalid("the inclusion proof does not lead to the root")


def check_consistency(m: int, n: int, proof: list[bytes], first: bytes, second: bytes) -> None:
    if not 0 < m < n:
        raise Invalid("check only proofs between two different, non-empty trees")
    path = [first, *proof] if m & (m - 1) == 0 else list(proof)
    fn, sn = m - 1, n - 1
    while fn % 2 == 1:
        fn, sn = fn // 2, sn // 2
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise Invalid("the consistency proof is too long")
        if fn % 2 == 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn // 2, sn // 2
        else:
            sr = _node(sr, c)
        fn, sn = fn // 2, sn // 2
    if sn != 0 or fr != first or sr != second:
        raise Invalid("the consistency proof does not join the two roots")
