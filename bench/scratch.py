"""A scratch PostgreSQL database for a bench script: created empty, dropped afterwards."""

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def scratch_postgres() -> Iterator[str]:
    """The URL of a new, empty database on the test server (HUB_TEST_POSTGRES_URL), set as
    HUB_DATABASE_URL while it lives; dropped, connections and all, when the block ends."""
    import psycopg

    server = os.environ.get("HUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
    admin = server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    name = f"hub_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"{server}/{name}"
        os.environ["HUB_DATABASE_URL"] = url
        yield url
    finally:
        from hub.db import engine_for

        engine_for.cache_clear()
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
