"""`hub audit rotate-signing-key`: announce a new checkpoint signing key (hub.audit
.signing_keys) and record the announcement, in the log and beside the pushed checkpoints."""

import os
import tempfile
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hub.audit.checkpoint import latest_head, sign_checkpoint, signers
from hub.audit.log import Actor, Event, append
from hub.audit.models import SigningKeyRotation
from hub.audit.notes import NoteError
from hub.audit.signing_keys import Rotation, sign_rotation
from hub.db import utcnow
from hub.settings import Settings, get_settings
from hub.vocabulary import LogKind, LogOutcome, SecurityEventTag


def rotate_signing_key(engine: Engine, actor: Actor, settings: Settings | None = None) -> Rotation:
    """With HUB_LOG_SIGNING_KEY="<new seed>,<current seed>": signs a last checkpoint with the
    current key, then the statement with both, stores it, logs it as a security event and
    writes it beside the pushed checkpoints. Restart the hub afterwards: from then on the new
    key signs. NoteError when the keys are not so, or the new key was announced already."""
    settings = settings or get_settings()
    keys = signers(settings)
    if len(keys) < 2:
        raise NoteError(
            "HUB_LOG_SIGNING_KEY must hold the new seed first, then the current one (comma)"
        )
    new, old = keys[0], keys[1]
    assert settings.log_signing_key is not None
    old_seed = settings.log_signing_key.get_secret_value().split(",")[1].strip()
    as_before = settings.model_copy(update={"log_signing_key": SecretStr(old_seed)})
    with Session(engine, expire_on_commit=False) as db:
        known = db.exec(
            select(SigningKeyRotation).where(col(SigningKeyRotation.new_key) == new.verifier_key)
        ).first()
        if known is not None:
            raise NoteError("that key was announced already")
        # The old key signs everything so far (and this checks that it is the key in use).
        sign_checkpoint(db, as_before)
        head = latest_head(db)
        rotation = sign_rotation(old, new, head.tree_size if head else 0)
        db.add(
            SigningKeyRotation(
                old_key=rotation.old_key,
                new_key=rotation.new_key,
                tree_size=rotation.tree_size,
                statement=rotation.statement,
                created_at=utcnow(),
            )
        )
        append(
            db,
            actor,
            Event(
                kind=LogKind.security,
                tag=SecurityEventTag.log_signing_key_rotated,
                outcome=LogOutcome.success,
                detail={
                    "old_key": rotation.old_key,
                    "new_key": rotation.new_key,
                    "tree_size": rotation.tree_size,
                },
            ),
        )
        db.commit()
    if settings.checkpoint_push_dir is not None:
        _write(settings.checkpoint_push_dir, rotation)
    return rotation


def _write(directory: Path, rotation: Rotation) -> None:
    """<dir>/key-rotation-<tree size>.note, written whole or not at all."""
    directory.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".rotation-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(rotation.statement)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, directory / f"key-rotation-{rotation.tree_size}.note")
