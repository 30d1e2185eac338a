"""The test harness every test stands on.

- Secrets are generated for the run; nothing comes from the repo.
- `database_url` runs a test on SQLite and on PostgreSQL. Each backend is migrated once with
  Alembic (never create_all) into a template; every test gets its own fresh copy of it.
- With CI=true, a missing PostgreSQL server or chromium fails the run instead of skipping.
- `app`, `client` and `sign_in` give an application on that database and signed-in clients
  for every role (see tests/factories.py for the data they make).
"""

import os
import secrets
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.crypto import generate_environment

os.environ.update(generate_environment())
os.environ["HUB_CHECKPOINT_INTERVAL_SECONDS"] = "3600"  # tests sign checkpoints on demand
os.environ["HUB_FLAGS_INTERVAL_SECONDS"] = "3600"  # and compute review flags on demand

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get(
    "HUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432"
)
BACKENDS = ["sqlite", "postgres"]

pytest_plugins = [
    "tests.fixtures.browser",
    "tests.fixtures.accounts",
    "tests.fixtures.referrals",
    "tests.fixtures.small_program",
]


MISSING = "missing service: "


def missing(reason: str) -> None:
    """Skip outside CI; in CI a missing service is a failure, never a silent skip."""
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(MISSING + reason)


# --- one run id for every xdist worker, so the run can clean up after all of them -------------


def _run_id(config: pytest.Config) -> str:
    worker_input = getattr(config, "workerinput", None)
    if worker_input is not None:
        return str(worker_input["hub_run_id"])
    return str(config.stash[_RUN_ID])


_RUN_ID = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config, "workerinput", None) is None:
        config.stash[_RUN_ID] = uuid.uuid4().hex[:8]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:  # pytest-xdist's WorkerController (untyped)
    node.workerinput["hub_run_id"] = node.config.stash[_RUN_ID]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `-m "not postgres"` runs the SQLite half only. A module may parametrize its own fixture
    # over BACKENDS (a world built once per module), so any parameter naming PostgreSQL counts.
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and any(
            isinstance(value, str) and value == "postgres" for value in callspec.params.values()
        ):
            item.add_marker(pytest.mark.postgres)


# --- with CI=true nothing may be skipped for want of a service --------------------------------

_CI_SKIPPED: list[str] = []


def _skipped_for_a_service(report: pytest.TestReport) -> bool:
    if not report.skipped:
        return False
    needs_service = "postgres" in report.keywords or "browser" in report.keywords
    if hasattr(report, "wasxfail"):
        # An xfail that ran is judged by xfail_strict; one marked run=False never ran at all.
        return needs_service and "[NOTRUN]" in str(report.wasxfail)
    longrepr = report.longrepr
    reason = str(longrepr[-1]) if isinstance(longrepr, tuple | list) else str(longrepr or "")
    return MISSING in reason or "could not import" in reason or needs_service


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Runs in the controlling process under xdist too, with every worker's reports.
    if IN_CI and _skipped_for_a_service(report):
        _CI_SKIPPED.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if getattr(session.config, "workerinput", None) is not None:
        return  # a worker: the controller cleans up and judges once all have finished
    _drop_run_databases(_run_id(session.config))
    if _CI_SKIPPED and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _CI_SKIPPED:
        terminalreporter.section("CI=true: skipped for want of a service (a failure)", red=True)
        for nodeid in _CI_SKIPPED:
            terminalreporter.line(nodeid)


def run_hub(*args: str, environment: dict[str, str]) -> "subprocess.CompletedProcess[str]":
    """Runs the `hub` command in a real process, as an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        cwd=Path(__file__).resolve().parent.parent,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def reset_caches() -> None:
    """Settings, engines and keys are cached per process; a test that changes the environment
    clears them so the next read sees the change."""
    from hub.crypto import key_ring
    from hub.db import engine_for
    from hub.equity.kept import forget_all
    from hub.settings import get_settings

    for cached in (get_settings, key_ring, engine_for):
        cached.cache_clear()
    forget_all()  # figures kept per database URL and data version (hub.equity.kept)


def _admin_connection() -> psycopg.Connection[Any]:
    url = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(f"{url}/postgres", autocommit=True, connect_timeout=3)


class PostgresServer:
    """Creates databases on the running server (pytest-postgresql cannot start one as root).

    Every name starts hub_test_<run id>_: each process drops what it made, and at the end the
    controlling process drops whatever is left under this run's id (a crashed xdist worker's);
    other runs on the same server (other worktrees, other CI jobs) are never touched.

    A test's copy of the template is made ahead, while the test before it runs, and dropped
    behind it: DROP DATABASE waits for a checkpoint (over a second on a shared disk), so drops
    run on threads of their own, where the server folds their checkpoints into one."""

    def __init__(self, run_id: str, worker: str) -> None:
        self.run_id = run_id
        self.prefix = f"hub_test_{run_id}_{worker}"
        self.created: list[str] = []
        self._lock = threading.Lock()
        self._making = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hub-test-create")
        self._dropping = ThreadPoolExecutor(max_workers=8, thread_name_prefix="hub-test-drop")
        self._spare: dict[str, Future[str]] = {}  # template -> its next copy, being made
        self._drops: list[Future[None]] = []

    def create(self, name: str, template: str | None = None) -> str:
        with _admin_connection() as conn:
            suffix = f" TEMPLATE {template}" if template else ""
            conn.execute(f'CREATE DATABASE "{name}"{suffix}')
            # A test's database outlives no crash, so its commits need not wait for the disk.
            conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        with self._lock:
            self.created.append(name)
        return f"{POSTGRES_URL}/{name}"

    def copy_of(self, template: str) -> tuple[str, str]:
        """A fresh copy of `template` (its name and URL), and the next one started."""
        with self._lock:
            made = self._spare.pop(template, None)
        name = made.result() if made is not None else self._make_copy(template)
        with self._lock:
            self._spare[template] = self._making.submit(self._make_copy, template)
        return name, f"{POSTGRES_URL}/{name}"

    def _make_copy(self, template: str) -> str:
        name = f"{self.prefix}_{secrets.token_hex(4)}"
        self.create(name, template=template)
        return name

    def drop(self, name: str) -> None:
        with _admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        with self._lock:
            if name in self.created:
                self.created.remove(name)

    def drop_later(self, name: str) -> None:
        with self._lock:
            self._drops = [d for d in self._drops if not d.done()]
            self._drops.append(self._dropping.submit(self.drop, name))

    def drop_all(self) -> None:
        with self._lock:
            spares, self._spare = list(self._spare.values()), {}
            drops = list(self._drops)
        waiting_for: list[Future[Any]] = [*spares, *drops]
        for waiting in waiting_for:
            waiting.exception()  # wait; a failed one leaves its name for the loop below
        self._making.shutdown(wait=True)
        self._dropping.shutdown(wait=True)
        for name in list(reversed(self.created)):
            self.drop(name)


@pytest.fixture(scope="session")
def postgres_server(pytestconfig: pytest.Config) -> Iterator[PostgresServer]:
    try:
        _admin_connection().close()
    except Exception as exc:
        missing(f"PostgreSQL is not reachable at {POSTGRES_URL} ({type(exc).__name__})")
    worker = str(getattr(pytestconfig, "workerinput", {}).get("workerid", "main"))
    server = PostgresServer(_run_id(pytestconfig), worker)
    yield server
    server.drop_all()


def _drop_run_databases(run_id: str) -> None:
    """Drop every database this run made, whichever process made it."""
    try:
        conn = _admin_connection()
    except Exception:
        return  # no server, so nothing was made there
    with conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s",
                (f"hub\\_test\\_{run_id}\\_%",),
            )
        ]
        # Per-test copies first: a template cannot be dropped while a copy is being made.
        for name in sorted(names, key=lambda n: n.endswith("_template")):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrate(url: str) -> None:
    os.environ["HUB_DATABASE_URL"] = url
    reset_caches()
    from hub.db import get_engine, migrate

    migrate(url)
    get_engine().dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    name = f"{postgres_server.prefix}_template"
    _migrate(postgres_server.create(name))
    return name


def _use_database(url: str, drop: str | None, request: pytest.FixtureRequest) -> Iterator[str]:
    """Points the hub at url for one test; afterwards drops the PostgreSQL database `drop`."""
    os.environ["HUB_DATABASE_URL"] = url
    reset_caches()
    yield url
    from hub.db import get_engine

    get_engine().dispose()
    if drop:
        request.getfixturevalue("postgres_server").drop_later(drop)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for this test, on the backend of this parameter."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "hub.db"
        shutil.copyfile(template, path)
        url = f"sqlite:///{path}"
        drop: str | None = None
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        drop, url = server.copy_of(request.getfixturevalue("postgres_template"))
    yield from _use_database(url, drop, request)


@pytest.fixture
def empty_database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """An EMPTY database (no schema at all, not the template), on this parameter's backend: for
    the tests of the migrations themselves."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
        drop = None
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        drop = f"{server.prefix}_{secrets.token_hex(4)}"
        url = server.create(drop)
    yield from _use_database(url, drop, request)


@pytest.fixture
def db(database_url: str) -> Iterator[object]:
    """A database session on this test's database."""
    from sqlmodel import Session

    from hub.db import get_engine

    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


@pytest.fixture
def app(database_url: str) -> FastAPI:
    from hub.web.app import create_app

    return create_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An anonymous browser-like client over HTTPS (the session cookie is __Host-, Secure)."""
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client
