"""Cosignatures (c2sp.org/tlog-cosignature, Ed25519 cosignature/v1).

A witness signs, with its own key, the message
    cosignature/v1\\n time <POSIX seconds>\\n <the checkpoint's text>
and answers a note signature line `— <witness name> base64(key id || timestamp || signature)`,
timestamp a big-endian u64; key id = SHA-256(name || 0x0A || 0x04 || public key)[:4].
"""

import base64
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature

from hub.audit.notes import (
    COSIGNATURE_V1,
    SIGNATURE_PREFIX,
    NoteError,
    Signer,
    Verifier,
    encode_verifier_key,
    key_id,
    signature_lines,
)

_TIMESTAMP_BYTES = 8
_SIGNATURE_BYTES = 64


def cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode()


def cosigner_key(signer: Signer) -> str:
    """The verifier key a log (or a receipt checker) is given for this witness."""
    return encode_verifier_key(signer.name, signer.public_key, COSIGNATURE_V1)


def parse_cosigner_key(verifier_key: str) -> Verifier:
    return Verifier.parse(verifier_key, COSIGNATURE_V1)


def cosign(signer: Signer, checkpoint_text: str, timestamp: int) -> str:
    """The cosignature line (no newline) of the witness `signer` over a checkpoint's text."""
    if not 0 < timestamp < 2**63:
        raise NoteError("a cosignature's timestamp is a positive POSIX time")
    signature = signer.private_key.sign(cosigned_message(checkpoint_text, timestamp))
    raw = (
        key_id(signer.name, signer.public_key, COSIGNATURE_V1)
        + timestamp.to_bytes(_TIMESTAMP_BYTES, "big")
        + signature
    )
    return f"{SIGNATURE_PREFIX}{signer.name} {base64.b64encode(raw).decode()}"


@dataclass(frozen=True)
class Cosignature:
    witness: str
    key_id: str  # hex
    timestamp: int
    line: str  # the signature line, without its newline


def open_cosignature(note: str, witness: Verifier) -> Cosignature | None:
    """The witness's cosignature among the signature lines of `note` (a checkpoint with the
    lines a witness answered appended), None if it has none; NoteError if one is not valid."""
    text, signatures = signature_lines(note)
    for name, raw in signatures:
        if name != witness.name or raw[:4] != witness.key_id:
            continue  # the log's own signature, or another witness's
        if len(raw) != 4 + _TIMESTAMP_BYTES + _SIGNATURE_BYTES:
            raise NoteError(f"the cosignature by {name} is malformed")
        timestamp = int.from_bytes(raw[4:12], "big")
        try:
            witness.public_key.verify(raw[12:], cosigned_message(text, timestamp))
        except InvalidSignature as exc:
            raise NoteError(f"the cosignature by {name} is not valid") from exc
        line = f"{SIGNATURE_PREFIX}{name} {base64.b64encode(raw).decode()}"
        return Cosignature(name, raw[:4].hex(), timestamp, line)
    return None
