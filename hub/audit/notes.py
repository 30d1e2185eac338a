"""C2SP signed notes (c2sp.org/signed-note) with Ed25519, and tlog checkpoints
(c2sp.org/tlog-checkpoint) inside them.

A checkpoint is the text
    <origin>\\n<tree size>\\n<base64 root hash>\\n
and the signed note adds a blank line and one line per signature:
    — <key name> <base64(key id || Ed25519 signature of the text)>\\n
key id = SHA-256(key name || 0x0A || 0x01 || public key)[:4]; the verifier key that a witness
or a defender's office is given is `<name>+<hex key id>+<base64(0x01 || public key)>`.
"""

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = b"\x01"
# c2sp.org/tlog-cosignature: an Ed25519 cosignature/v1 key (a witness's) has its own type byte.
COSIGNATURE_V1 = b"\x04"
SIGNATURE_PREFIX = "\u2014 "  # em dash, space


class NoteError(ValueError):
    """A note or checkpoint is malformed or not signed by the expected key."""


def _check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteError("a key name is non-empty, without spaces or '+'")


def key_id(name: str, public_key: bytes, algorithm: bytes = ED25519) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + algorithm + public_key).digest()[:4]


def encode_verifier_key(name: str, public_key: bytes, algorithm: bytes = ED25519) -> str:
    """`<name>+<hex key id>+<base64(type byte || public key)>` (c2sp.org/signed-note vkey)."""
    encoded = base64.b64encode(algorithm + public_key).decode()
    return f"{name}+{key_id(name, public_key, algorithm).hex()}+{encoded}"


def signature_lines(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """The text of a signed note and its signatures as (key name, key id || signature)."""
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise NoteError("not a signed note")
    signatures = []
    for line in note[cut + 2 : -1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("malformed signature line")
        name, _, blob = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(blob, validate=True)
        except binascii.Error as exc:
            raise NoteError("malformed signature") from exc
        if len(raw) < 5:
            raise NoteError("malformed signature")
        signatures.append((name, raw))
    return note[: cut + 1], signatures


@dataclass(frozen=True)
class Signer:
    name: str
    private_key: Ed25519PrivateKey

    @classmethod
    def from_seed(cls, name: str, seed_b64: str) -> "Signer":
        _check_name(name)
        try:
            seed = base64.b64decode(seed_b64, validate=True)
            key = Ed25519PrivateKey.from_private_bytes(seed)
        except (binascii.Error, ValueError) as exc:
            raise NoteError("the signing key is not base64 of a 32-byte Ed25519 seed") from exc
        return cls(name, key)

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes_raw()

    @property
    def verifier_key(self) -> str:
        return encode_verifier_key(self.name, self.public_key)

    def sign(self, text: str) -> str:
        """The signed note of `text` (which must end in a newline and hold no blank line)."""
        if not text.endswith("\n") or "\n\n" in text:
            raise NoteError("a note's text ends in a newline and has no blank line")
        signature = self.private_key.sign(text.encode())
        blob = base64.b64encode(key_id(self.name, self.public_key) + signature).decode()
        return f"{text}\n{SIGNATURE_PREFIX}{self.name} {blob}\n"


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: bytes
    public_key: Ed25519PublicKey

    @classmethod
    def parse(cls, verifier_key: str, algorithm: bytes = ED25519) -> "Verifier":
        """A verifier key of type `algorithm` (ED25519 for a log, COSIGNATURE_V1 for a witness)."""
        try:
            name, hex_id, encoded = verifier_key.strip().split("+", 2)
            raw = base64.b64decode(encoded, validate=True)
            wanted_id = bytes.fromhex(hex_id)
        except (ValueError, binascii.Error) as exc:
            raise NoteError("not a verifier key (name+keyid+base64key)") from exc
        _check_name(name)
        if len(raw) != 33 or raw[:1] != algorithm or len(wanted_id) != 4:
            raise NoteError(
                "not an Ed25519 verifier key"
                if algorithm == ED25519
                else "not an Ed25519 cosignature/v1 verifier key"
            )
        if key_id(name, raw[1:], algorithm) != wanted_id:
            raise NoteError("the verifier key's id does not match its name and key")
        return cls(name, wanted_id, Ed25519PublicKey.from_public_bytes(raw[1:]))

    def open(self, note: str) -> str:
        """The text of `note` if it carries a valid signature by this key; NoteError if not."""
        text, signatures = signature_lines(note)
        for name, raw in signatures:
            if name != self.name or raw[:4] != self.key_id:
                continue  # another key's signature (a witness's cosignature, say)
            try:
                self.public_key.verify(raw[4:], text.encode())
            except InvalidSignature as exc:
                raise NoteError(f"the signature by {name} is not valid") from exc
            return text
        raise NoteError(f"the note carries no signature by {self.name}")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes

    def text(self) -> str:
        root = base64.b64encode(self.root_hash).decode()
        return f"{self.origin}\n{self.tree_size}\n{root}\n"

    @classmethod
    def parse(cls, text: str) -> "Checkpoint":
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint has an origin, a size and a root hash, one a line")
        origin, size, root = lines[:3]
        try:
            tree_size = int(size)
            root_hash = base64.b64decode(root, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise NoteError("malformed checkpoint size or root hash") from exc
        if str(tree_size) != size or tree_size < 0 or len(root_hash) != 32 or not origin:
            raise NoteError("malformed checkpoint size or root hash")
        return cls(origin, tree_size, root_hash)


def open_checkpoint(note: str, verifier: Verifier) -> Checkpoint:
    """The checkpoint in a signed note, checked against the verifier (origin = key name)."""
    checkpoint = Checkpoint.parse(verifier.open(note))
    if checkpoint.origin != verifier.name:
        raise NoteError("the checkpoint's origin is not the verifier key's name")
    return checkpoint


@dataclass(frozen=True)
class KeyChain(Verifier):
    """This log's current key and the older keys a rotation announced (hub.audit
    .signing_keys): a note signed by any of them opens; one by any other key does not."""

    previous: tuple[Verifier, ...] = ()

    def open(self, note: str) -> str:
        try:
            return super().open(note)
        except NoteError as current:
            for older in self.previous:
                try:
                    return older.open(note)
                except NoteError:
                    continue
            raise NoteError(f"{current}, nor by a key it announced") from None
