"""The schema is built by Alembic alone, from an EMPTY database, on both backends
(warehouse's bin/db-check): `hub migrate` reaches head, the migrated schema is exactly
hub.models.metadata (the `alembic check` equivalent), downgrade and upgrade both work, and the
hub refuses to serve a database that is behind."""

import os

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import inspect
from typer.testing import CliRunner

from hub.cli import app as cli_app
from hub.db import SchemaBehind, alembic_config, check_schema_current, get_engine, migrate
from hub.models import metadata
from hub.web.app import create_app
from tests.conftest import run_hub


def heads() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions() -> set[str]:
    with get_engine().connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def drift() -> list[object]:
    """What `alembic check` would report: differences between the models and the database."""
    with get_engine().connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def table_names() -> set[str]:
    return set(inspect(get_engine()).get_table_names())


def test_the_migrations_have_one_head():
    assert len(heads()) == 1, "chain the revisions in migrations/versions into one line"


def test_migrate_builds_the_whole_schema_from_an_empty_database(empty_database_url):
    assert table_names() == set()
    migrate()
    assert current_revisions() == heads()
    check_schema_current(get_engine())
    assert set(metadata.tables) <= table_names()


def test_the_migrated_schema_matches_the_models(empty_database_url):
    migrate()
    assert drift() == []


def test_hub_migrate_command_reaches_head(empty_database_url):
    result = CliRunner().invoke(cli_app, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "schema is current" in result.output
    assert current_revisions() == heads()


def test_downgrade_to_base_and_up_again(empty_database_url):
    migrate()
    command.downgrade(alembic_config(), "base")
    assert current_revisions() == set()
    assert table_names() <= {"alembic_version"}
    migrate()
    assert current_revisions() == heads()
    assert drift() == []


def test_the_app_refuses_a_database_that_is_behind(empty_database_url):
    with pytest.raises(SchemaBehind, match="Run `hub migrate` first"), TestClient(create_app()):
        pass


def test_the_app_serves_once_migrated(empty_database_url):
    migrate()
    with TestClient(create_app(), base_url="https://testserver") as client:
        assert client.get("/healthz").json() == {"status": "ok"}


def test_hub_serve_exits_non_zero_on_a_database_that_is_behind(empty_database_url):
    # A real process: `hub serve` must refuse before it binds a port.
    environment = {**os.environ, "HUB_DATABASE_URL": empty_database_url}
    result = run_hub("serve", "--port", "0", environment=environment)
    assert result.returncode != 0
    assert "Run `hub migrate` first" in result.stderr
    assert "Uvicorn running" not in result.stderr
