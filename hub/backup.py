"""`hub backup` and `hub restore`: a PostgreSQL dump, the checkpoints pushed outside the
database and a manifest naming the keys (never the keys themselves), and the restore of all that
into an empty database, checked against the newest pushed checkpoint (issue 18, item 5).

A restore from a backup older than the last pushed checkpoint loses the entries logged since:
the log cannot prove those disclosures any more. `restore_backup` says so (rollback detection);
it never hides the gap. deploy/README.md, "Backup and restore", is the drill.
"""

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from hub.audit.checkpoint import CheckpointRefused, leaf_hashes, verifier_key
from hub.audit.log import Actor, Event, append_and_commit
from hub.audit.merkle import CompactRange
from hub.audit.notes import Checkpoint, NoteError, Verifier, open_checkpoint
from hub.crypto import key_ring
from hub.db import utcnow
from hub.settings import Settings
from hub.vocabulary import LogKind, LogOutcome, SecurityEventTag

FORMAT = "diversion-hub-backup/1"
MANIFEST = "manifest.json"
DUMP = "database.dump"
CHECKPOINTS = "checkpoints"
_CHECKPOINT_SUFFIX = ".checkpoint"


class BackupError(RuntimeError):
    """The backup or restore cannot be done as asked; nothing was changed."""


@dataclass(frozen=True)
class PushedCheckpoint:
    """A signed checkpoint found outside the database, with where it was found."""

    source: Path
    checkpoint: Checkpoint


@dataclass
class RestoreReport:
    entries: int = 0
    newest: PushedCheckpoint | None = None
    problem: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None


# --- PostgreSQL's own tools ---------------------------------------------------------------


def _libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """The URL for pg_dump and pg_restore without its password, and an environment that carries
    it: a password on the command line would show in `ps`."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise BackupError(
            "hub backup and hub restore work on PostgreSQL; back up a SQLite database with "
            "sqlite3 hub.db '.backup <file>' (deploy/README.md)"
        )
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environment


def _run(tool: str, *args: str, environment: dict[str, str]) -> str:
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not installed (Debian: apt-get install postgresql-client)")
    done = subprocess.run(  # noqa: S603 - the tool is PostgreSQL's, the arguments are ours
        [tool, *args], env=environment, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        # pg_dump's messages name tables and objects, never row data.
        raise BackupError(f"{tool} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- the backup ----------------------------------------------------------------------------


def _pushed_files(directory: Path | None) -> list[Path]:
    if directory is None or not directory.is_dir():
        return []
    return sorted(directory.glob(f"*{_CHECKPOINT_SUFFIX}"))


def take_backup(
    engine: Engine, settings: Settings, directory: Path, actor: Actor
) -> dict[str, Any]:
    """Write the backup into `directory` (new or empty) and return its manifest. The backup is
    logged first (it copies every record: CJIS AU-2), so the dump holds its own entry."""
    url, environment = _libpq(settings.database_url)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BackupError(f"{directory} is not an empty directory; give a new one")
    with Session(engine, expire_on_commit=False) as db:
        schema = sorted(db.execute(text("SELECT version_num FROM alembic_version")).scalars())
        append_and_commit(
            db,
            actor,
            Event(
                kind=LogKind.security,
                tag=SecurityEventTag.database_backed_up,
                outcome=LogOutcome.success,
                detail={"directory": directory.name},
            ),
        )
    directory.mkdir(parents=True, exist_ok=True)
    # The checkpoints are copied before the dump starts: each was pushed after its entries had
    # committed, so the dump covers every checkpoint it travels with.
    copies = directory / CHECKPOINTS
    copies.mkdir()
    checkpoints = []
    for pushed in _pushed_files(settings.checkpoint_push_dir):
        shutil.copy2(pushed, copies / pushed.name)
        checkpoints.append({"file": pushed.name, "sha256": _sha256(copies / pushed.name)})
    dump = directory / DUMP
    try:
        _run(
            "pg_dump",
            "--format=custom",
            "--no-password",
            f"--file={dump}",
            url,
            environment=environment,
        )
    except BackupError:
        shutil.rmtree(copies)  # leave the directory as it was given: empty
        dump.unlink(missing_ok=True)
        raise
    manifest = {
        "format": FORMAT,
        "created_at": utcnow().isoformat(),
        "database": {
            "name": make_url(settings.database_url).database,
            "schema_revisions": schema,
            "dump": DUMP,
            "dump_sha256": _sha256(dump),
            "pg_dump": _run("pg_dump", "--version", environment=environment).strip(),
        },
        "log": {"origin": settings.log_origin, "verifier_key": verifier_key(settings)},
        "checkpoints": checkpoints,
        # Identifiers only: a restore needs these keys, from wherever the keys are kept.
        "data_key_ids": [key_id for key_id, _ in key_ring().keys],
    }
    # Written last: a backup without its manifest is an unfinished one.
    partial = directory / f".{MANIFEST}"
    partial.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    partial.replace(directory / MANIFEST)
    return manifest


# --- the restore ---------------------------------------------------------------------------


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{path} is missing: not a backup, or an unfinished one") from None
    except (ValueError, UnicodeDecodeError):
        raise BackupError(f"{path} is not a backup manifest") from None
    try:
        fit = (
            manifest["format"] == FORMAT
            and isinstance(manifest["database"]["dump_sha256"], str)
            and isinstance(manifest["log"]["verifier_key"], str)
            and isinstance(manifest["data_key_ids"], list)
        )
    except (KeyError, TypeError):
        fit = False
    if not fit:
        raise BackupError(f"{path} is not a backup manifest of format {FORMAT}")
    dump = directory / DUMP
    if not dump.is_file() or _sha256(dump) != manifest["database"]["dump_sha256"]:
        raise BackupError(f"{dump} is missing or differs from the one the manifest names")
    return manifest


def pushed_checkpoints(
    directories: Iterable[Path], verifiers: list[Verifier], warnings: list[str]
) -> list[PushedCheckpoint]:
    """Every checkpoint file in the directories that one of the keys signed; others are named
    in `warnings` and left out (an unsigned file proves nothing)."""
    found = []
    for directory in directories:
        for path in _pushed_files(directory):
            note = path.read_text(encoding="utf-8", errors="replace")
            for verifier in verifiers:
                try:
                    found.append(PushedCheckpoint(path, open_checkpoint(note, verifier)))
                    break
                except NoteError:
                    continue
            else:
                warnings.append(f"{path} is not a checkpoint signed by this hub; ignored")
    return found


def _empty(engine: Engine, name: str | None) -> bool:
    try:
        connection = engine.connect()
    except OperationalError:
        raise BackupError(
            f"cannot connect to the database {name}: create it first (createdb) and check "
            "HUB_DATABASE_URL"
        ) from None
    with connection:
        count = connection.execute(
            text(
                "SELECT count(*) FROM pg_catalog.pg_class c "
                "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND n.nspname NOT LIKE 'pg\\_%' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')"
            )
        ).scalar_one()
    return int(count) == 0


def compare_with_checkpoints(engine: Engine, pushed: list[PushedCheckpoint]) -> RestoreReport:
    """Whether the log in the database holds every entry a pushed checkpoint covers, and the
    same ones (the root of its first tree_size leaves equals the checkpoint's)."""
    report = RestoreReport()
    with Session(engine) as db:
        highest = db.execute(text("SELECT max(seq) FROM log_entry")).scalar()
        report.entries = 0 if highest is None else int(highest) + 1
        if not pushed:
            return report
        report.newest = max(pushed, key=lambda p: p.checkpoint.tree_size)
        newest = report.newest.checkpoint
        if newest.tree_size > report.entries:
            lost = newest.tree_size - report.entries
            report.problem = (
                f"ROLLED BACK: the restored log has {report.entries} entries, but the checkpoint "
                f"{report.newest.source}, signed by this hub and pushed outside the database, "
                f"covers {newest.tree_size}. The {lost} most recent entries were lost: this "
                "backup is older than the last pushed checkpoint. Restore a newer backup if "
                "there is one; otherwise record the loss before serving (deploy/README.md)."
            )
            return report
        by_size = sorted(pushed, key=lambda p: p.checkpoint.tree_size)
        tree = CompactRange()
        pending = iter(by_size)
        current = next(pending, None)
        while current is not None and current.checkpoint.tree_size == 0:
            current = next(pending, None)
        try:
            # Read to the end even after a mismatch: an abandoned read would leave the
            # server-side cursor of leaf_hashes open.
            for leaf in leaf_hashes(db, 0, newest.tree_size):
                tree.append(leaf)
                while current is not None and current.checkpoint.tree_size == tree.size:
                    if report.problem is None and tree.root() != current.checkpoint.root_hash:
                        report.problem = _altered(f"the checkpoint {current.source}", tree.size)
                    current = next(pending, None)
        except CheckpointRefused as exc:  # a gap in seq
            report.problem = _altered(f"the checkpoint {report.newest.source} ({exc})", tree.size)
    return report


def _altered(what: str, size: int) -> str:
    return (
        f"NOT CONSISTENT: the restored log's first {size} entries are not the ones {what} "
        "covers: the log was altered. `hub audit verify` names the first altered entry."
    )


def restore_backup(
    engine: Engine, settings: Settings, directory: Path, checkpoint_dirs: list[Path]
) -> RestoreReport:
    """pg_restore the backup into the (empty) database, in one transaction, then compare its
    log with the newest checkpoint pushed outside the database. Raises BackupError, changing
    nothing, when the backup or the target is not fit; a rollback is in the report."""
    url, environment = _libpq(settings.database_url)
    manifest = read_manifest(directory)
    name = make_url(settings.database_url).database
    if not _empty(engine, name):
        raise BackupError(
            f"the database {name} is not empty: restore into a new, empty database (createdb) "
            "and point HUB_DATABASE_URL at it"
        )
    warnings: list[str] = []
    held = {key_id for key_id, _ in key_ring().keys}
    for key_id in manifest["data_key_ids"]:
        if key_id not in held:
            warnings.append(
                f"the data key {key_id} is not in HUB_DATA_KEYS: fields sealed under it will "
                "not open until it is added"
            )
    verifiers = [Verifier.parse(verifier_key(settings))]
    if manifest["log"]["verifier_key"] != verifier_key(settings):
        verifiers.append(Verifier.parse(manifest["log"]["verifier_key"]))
    pushed = pushed_checkpoints([directory / CHECKPOINTS, *checkpoint_dirs], verifiers, warnings)
    _run(
        "pg_restore",
        "--exit-on-error",
        "--single-transaction",
        "--no-owner",
        "--no-password",
        f"--dbname={url}",
        str(directory / DUMP),
        environment=environment,
    )
    report = compare_with_checkpoints(engine, pushed)
    report.warnings = warnings + report.warnings
    if not pushed:
        report.warnings.append(
            "no pushed checkpoint to compare with, so a rollback cannot be detected: give the "
            "witness's newest checkpoint with --checkpoints, or set HUB_CHECKPOINT_PUSH_DIR"
        )
    return report
