"""Rotating the key that signs checkpoints (issue 18, item 6).

HUB_LOG_SIGNING_KEY holds one seed or several, newest first: the first signs; the older ones
are needed only to sign the rotation statement. The statement is a C2SP signed note

    <origin>
    key rotation
    <old verifier key>
    <new verifier key>
    <tree size the old key signed last>

signed by the old key (it announces its successor) and by the new one (it proves the holder of
the new key made it). A verifier that trusts either key learns the other from it; a checkpoint
signed by a key that no such statement links to the key it trusts is refused.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from hub.audit.notes import KeyChain, NoteError, Signer, Verifier, signature_lines

ROTATION_LINE = "key rotation"


@dataclass(frozen=True)
class Rotation:
    old_key: str
    new_key: str
    tree_size: int
    statement: str


def rotation_text(origin: str, old_key: str, new_key: str, tree_size: int) -> str:
    return f"{origin}\n{ROTATION_LINE}\n{old_key}\n{new_key}\n{tree_size}\n"


def sign_rotation(old: Signer, new: Signer, tree_size: int) -> Rotation:
    """The statement, signed by both keys (two signature lines on one text)."""
    if old.verifier_key == new.verifier_key:
        raise NoteError("the new signing key is the current one")
    if old.name != new.name:
        raise NoteError("both keys sign for the same origin")
    text = rotation_text(old.name, old.verifier_key, new.verifier_key, tree_size)
    by_new = new.sign(text)
    statement = old.sign(text) + by_new[by_new.rfind("\n\n") + 2 :]
    return Rotation(old.verifier_key, new.verifier_key, tree_size, statement)


def open_rotation(statement: str) -> Rotation:
    """The rotation in a statement, if both keys it names signed it; NoteError if not."""
    text, _ = signature_lines(statement)
    lines = text.split("\n")
    if len(lines) != 6 or lines[1] != ROTATION_LINE or lines[5] != "":
        raise NoteError("not a key rotation statement")
    origin, _, old_key, new_key, size, _ = lines
    for key in (old_key, new_key):
        verifier = Verifier.parse(key)
        if verifier.name != origin:
            raise NoteError("a rotation names keys of another origin")
        verifier.open(statement)
    if not size.isdigit():
        raise NoteError("malformed tree size in a key rotation")
    return Rotation(old_key, new_key, int(size), statement)


def announced_keys(trusted: str, statements: Iterable[str]) -> list[str]:
    """Every key linked to `trusted` by valid statements (either way), `trusted` first."""
    rotations = []
    for statement in statements:
        try:
            rotations.append(open_rotation(statement))
        except NoteError:
            continue  # a statement that does not verify announces nothing
    keys = [trusted]
    grew = True
    while grew:
        grew = False
        for rotation in rotations:
            for known, other in (
                (rotation.old_key, rotation.new_key),
                (rotation.new_key, rotation.old_key),
            ):
                if known in keys and other not in keys:
                    keys.append(other)
                    grew = True
    return keys


def key_chain(current: str, statements: Iterable[str]) -> KeyChain:
    """A verifier of this log's checkpoints: the current key and the keys it announced."""
    first, *older = [Verifier.parse(key) for key in announced_keys(current, statements)]
    return KeyChain(first.name, first.key_id, first.public_key, tuple(older))
