"""The backup and restore drill (issue 18, item 5), run as an operator would: `hub backup` of a
PostgreSQL hub while entries are being appended, `hub restore` into a new empty database, then
`hub audit verify`; and a backup older than the newest pushed checkpoint restored and caught as
a rollback."""

import json
import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import NullPool, create_engine
from sqlmodel import Session, col, select

from hub.audit.checkpoint import checkpoint_round
from hub.audit.log import Actor, Event, append_and_commit
from hub.audit.models import LogEntry
from hub.db import get_engine
from hub.settings import get_settings
from hub.vocabulary import LogKind, LogOutcome, SecurityEventTag
from tests.conftest import PostgresServer, run_hub

LOAD_THREADS = 3


def _append(count: int = 1) -> None:
    with Session(get_engine(), expire_on_commit=False) as db:
        for _ in range(count):
            append_and_commit(
                db,
                Actor(request_id=f"drill-{secrets.token_hex(4)}", address="local"),
                Event(
                    kind=LogKind.security,
                    tag=SecurityEventTag.sign_in_failure,
                    outcome=LogOutcome.failure,
                    detail={"drill": True},
                ),
            )


class Load:
    """Threads that append to the log until stopped, as signed-in users would."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._run) for _ in range(LOAD_THREADS)]

    def _run(self) -> None:
        try:
            while not self.stop.wait(0.02):
                _append()
        except BaseException as exc:
            self.errors.append(exc)

    def __enter__(self) -> "Load":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()
        assert self.errors == []


@pytest.fixture
def pushed(tmp_path: Path, settings_env) -> Path:
    directory = tmp_path / "pushed"
    settings_env(checkpoint_push_dir=directory)
    return directory


@pytest.fixture
def empty_databases(postgres_server: PostgresServer) -> Iterator[object]:
    def _new() -> str:
        return postgres_server.create(f"{postgres_server.prefix}_{secrets.token_hex(4)}")

    yield _new


def _hub(*args: str, **settings: str):
    return run_hub(*args, environment={**os.environ, **settings})


def _checkpoint() -> int:
    head = checkpoint_round(get_engine(), get_settings())
    assert head is not None
    return head.tree_size


@pytest.mark.parametrize("backend", ["postgres"])  # pg_dump and pg_restore
def test_backup_under_load_restores_and_verifies(database_url, pushed, empty_databases, tmp_path):
    _append(20)
    signed = _checkpoint()
    backup = tmp_path / "backup"
    with Load():
        _append(5)
        taken = _hub("backup", str(backup))
    assert taken.returncode == 0, taken.stderr
    assert (pushed / f"{signed}.checkpoint").exists()

    # The manifest names the keys; it holds none of them.
    manifest_text = (backup / "manifest.json").read_text()
    manifest = json.loads(manifest_text)
    assert manifest["data_key_ids"] == [get_settings().data_keys.get_secret_value().split(":")[0]]
    assert manifest["checkpoints"] == [
        {"file": f"{signed}.checkpoint", "sha256": manifest["checkpoints"][0]["sha256"]}
    ]
    for name in ("HUB_SECRET_KEY", "HUB_DATA_KEYS", "HUB_LOG_SIGNING_KEY"):
        for secret in os.environ[name].replace(",", ":").split(":"):
            if len(secret) > 8:
                assert secret not in manifest_text, name

    restored_url = empty_databases()
    restored = _hub("restore", str(backup), HUB_DATABASE_URL=restored_url)
    assert restored.returncode == 0, restored.stderr
    assert f"every entry of the newest pushed checkpoint ({signed} entries" in restored.stdout
    verified = _hub("audit", "verify", HUB_DATABASE_URL=restored_url)
    assert verified.returncode == 0, verified.stderr
    assert "OK: the log is intact." in verified.stdout

    # The restored log holds the backup's own entry: the copy of every record left a trace.
    engine = create_engine(restored_url, poolclass=NullPool)
    with Session(engine) as db:
        tags = db.exec(select(LogEntry.tag).order_by(col(LogEntry.seq))).all()
    engine.dispose()
    assert SecurityEventTag.database_backed_up.value in tags

    # A second restore into the same database is refused and changes nothing.
    again = _hub("restore", str(backup), HUB_DATABASE_URL=restored_url)
    assert again.returncode == 2
    assert "is not empty" in again.stderr


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_restore_that_lost_recent_entries_is_detected(
    database_url, pushed, empty_databases, tmp_path
):
    _append(10)
    _checkpoint()
    backup = tmp_path / "backup"
    assert _hub("backup", str(backup)).returncode == 0
    # After the backup the hub goes on logging, and pushes a checkpoint over the new entries.
    _append(7)
    newest = _checkpoint()

    restored_url = empty_databases()
    restored = _hub("restore", str(backup), HUB_DATABASE_URL=restored_url)
    assert restored.returncode == 1, restored.stderr
    assert "ROLLED BACK" in restored.stderr
    assert f"{newest}.checkpoint" in restored.stderr
    assert "The 7 most recent entries were lost" in restored.stderr


@pytest.mark.parametrize("backend", ["sqlite"])
def test_backup_of_sqlite_says_how_instead(database_url, tmp_path):
    answer = _hub("backup", str(tmp_path / "backup"))
    assert answer.returncode == 2
    assert "sqlite3 hub.db '.backup" in answer.stderr
    assert not (tmp_path / "backup").exists()
