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
from sqlalchemy import Engine, NullPool, create_engine, inspect
from sqlmodel import Session, col, select

from hub.audit.checkpoint import checkpoint_round
from hub.audit.log import Actor, Event, append_and_commit
from hub.audit.models import LogEntry
from hub.backup import BackupError, restore_backup, take_backup
from hub.db import get_engine
from hub.settings import Settings, get_settings
from hub.vocabulary import LogKind, LogOutcome, SecurityEventTag
from tests.conftest import PostgresServer, run_hub

LOAD_THREADS = 3


def _append(count: int = 1, engine: Engine | None = None) -> None:
    with Session(engine or get_engine(), expire_on_commit=False) as db:
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
    data_keys = get_settings().data_keys
    assert data_keys is not None
    assert manifest["data_key_ids"] == [data_keys.get_secret_value().split(":")[0]]
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


def _scratch_engine(url: str) -> Engine:
    return create_engine(url, poolclass=NullPool)


@pytest.mark.parametrize("backend", ["postgres"])
def test_restore_refuses_what_is_not_a_backup_and_changes_nothing(
    database_url, empty_databases, tmp_path
):
    target = empty_databases()
    engine = _scratch_engine(target)
    settings = Settings(database_url=target)
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    with pytest.raises(BackupError, match=r"manifest\.json is missing"):
        restore_backup(engine, settings, nothing, [])

    backup = tmp_path / "backup"
    take_backup(get_engine(), get_settings(), backup, Actor(request_id="drill", address="local"))
    # Not over a database in use: the hub's own is refused, untouched.
    before = inspect(get_engine()).get_table_names()
    with pytest.raises(BackupError, match="is not empty: restore into a new, empty database"):
        restore_backup(get_engine(), get_settings(), backup, [])
    assert inspect(get_engine()).get_table_names() == before
    absent = f"{target}_absent"
    with pytest.raises(BackupError, match="create it first"):
        restore_backup(_scratch_engine(absent), Settings(database_url=absent), backup, [])
    with (backup / "database.dump").open("ab") as dump:
        dump.write(b"\0")
    with pytest.raises(BackupError, match="differs from the one the manifest names"):
        restore_backup(engine, settings, backup, [])
    assert inspect(engine).get_table_names() == []
    engine.dispose()


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_log_that_differs_from_a_signed_checkpoint_is_detected(
    database_url, postgres_server, postgres_template, empty_databases, tmp_path
):
    _append(6)
    backup = tmp_path / "backup"
    take_backup(get_engine(), get_settings(), backup, Actor(request_id="drill", address="local"))
    # Another log signed with this hub's key: its first entries are not the backup's.
    other_url = postgres_server.create(
        f"{postgres_server.prefix}_{secrets.token_hex(4)}", template=postgres_template
    )
    other = _scratch_engine(other_url)
    _append(3, other)
    witness = tmp_path / "witness"
    checkpoint_round(other, Settings(database_url=other_url, checkpoint_push_dir=witness))
    other.dispose()

    target = empty_databases()
    engine = _scratch_engine(target)
    report = restore_backup(engine, Settings(database_url=target), backup, [witness])
    engine.dispose()
    assert report.entries == 7
    assert report.problem is not None
    assert report.problem.startswith("NOT CONSISTENT: the restored log's first 3 entries")
