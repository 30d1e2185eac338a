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
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.crypto import generate_environment

os.environ.update(generate_environment())
os.environ["HUB_CHECKPOINT_INTERVAL_SECONDS"] = "3600"  # tests sign checkpoints on demand

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get(
    "HUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432"
)
BACKENDS = ["sqlite", "postgres"]

pytest_plugins = [
    "tests.fixtures.browser",
    "tests.fixtures.accounts",
    "tests.fixtures.referrals",
]


def missing(reason: str) -> None:
    """Skip outside CI; in CI a missing service is a failure, never a silent skip."""
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def reset_caches() -> None:
    """Settings, engines and keys are cached per process; a test that changes the environment
    clears them so the next read sees the change."""
    from hub.crypto import key_ring
    from hub.db import engine_for
    from hub.settings import get_settings

    for cached in (get_settings, key_ring, engine_for):
        cached.cache_clear()


def _admin_connection() -> object:
    import psycopg

    url = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(f"{url}/postgres", autocommit=True, connect_timeout=3)


class PostgresServer:
    """Creates databases on the running server (pytest-postgresql cannot start one as root)."""

    def __init__(self) -> None:
        self.run_id = uuid.uuid4().hex[:8]
        self.created: list[str] = []

    def create(self, name: str, template: str | None = None) -> str:
        with _admin_connection() as conn:  # type: ignore[attr-defined]
            suffix = f" TEMPLATE {template}" if template else ""
            conn.execute(f'CREATE DATABASE "{name}"{suffix}')
        self.created.append(name)
        return f"{POSTGRES_URL}/{name}"

    def drop(self, name: str) -> None:
        with _admin_connection() as conn:  # type: ignore[attr-defined]
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.created:
            self.created.remove(name)

    def drop_all(self) -> None:
        for name in list(reversed(self.created)):
            self.drop(name)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        _admin_connection().close()  # type: ignore[attr-defined]
    except Exception as exc:
        missing(f"PostgreSQL is not reachable at {POSTGRES_URL} ({type(exc).__name__})")
    server = PostgresServer()
    yield server
    server.drop_all()


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
    name = f"hub_test_{postgres_server.run_id}_template"
    _migrate(postgres_server.create(name))
    return name


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
        drop = None
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        template_name: str = request.getfixturevalue("postgres_template")
        name = f"hub_test_{server.run_id}_{secrets.token_hex(4)}"
        url = server.create(name, template=template_name)
        drop = name
    os.environ["HUB_DATABASE_URL"] = url
    reset_caches()
    yield url
    from hub.db import get_engine

    get_engine().dispose()
    if drop:
        request.getfixturevalue("postgres_server").drop(drop)


@pytest.fixture
def db(database_url: str) -> Iterator[object]:
    """A database session on this test's database."""
    from sqlmodel import Session

    from hub.db import get_engine

    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


@pytest.fixture
def app(database_url: str) -> object:
    from hub.web.app import create_app

    return create_app()


@pytest.fixture
def client(app: object) -> Iterator[object]:
    """An anonymous browser-like client over HTTPS (the session cookie is __Host-, Secure)."""
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="https://testserver") as test_client:  # type: ignore[arg-type]
        yield test_client
