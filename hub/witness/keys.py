"""The witness's own Ed25519 key: `<state dir>/witness.key` (written by `hub witness keygen`,
mode 0600: the key name on the first line, base64 of the 32-byte seed on the second), or the
environment (HUB_WITNESS_NAME and HUB_WITNESS_KEY), never the hub's settings."""

import base64
import os
import secrets
from pathlib import Path

from hub.audit.notes import NoteError, Signer

KEY_FILE = "witness.key"


class WitnessKeyError(ValueError):
    """No usable witness key."""


def generate_key(state: Path, name: str) -> Signer:
    """Write a new key file into `state`; refuses to replace one."""
    seed = base64.b64encode(secrets.token_bytes(32)).decode()
    try:
        signer = Signer.from_seed(name, seed)
    except NoteError as exc:
        raise WitnessKeyError(str(exc)) from None
    state.mkdir(parents=True, exist_ok=True)
    path = state / KEY_FILE
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise WitnessKeyError(f"{path} exists: a witness keeps its key") from None
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(f"{name}\n{seed}\n")
    return signer


def load_key(state: Path, environ: dict[str, str] | None = None) -> Signer:
    environ = dict(os.environ) if environ is None else environ
    if environ.get("HUB_WITNESS_KEY"):
        name, seed = environ.get("HUB_WITNESS_NAME", ""), environ["HUB_WITNESS_KEY"]
    else:
        path = state / KEY_FILE
        try:
            name, seed = path.read_text(encoding="utf-8").split("\n")[:2]
        except (OSError, ValueError):
            raise WitnessKeyError(
                f"no witness key: run `hub witness keygen --state {state}` "
                "or set HUB_WITNESS_NAME and HUB_WITNESS_KEY"
            ) from None
    try:
        return Signer.from_seed(name, seed)
    except NoteError as exc:
        raise WitnessKeyError(f"the witness key is not usable: {exc}") from None
