"""Migration 0006acc on a database that already holds API tokens: a token issued without an end
gets one 90 days after it was made, and every old token keeps the read-and-write power it had
(issue 12, item 6)."""

from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import text

from hub.db import alembic_config, get_engine, migrate

MADE = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_old_tokens_get_an_end_and_keep_their_scope(empty_database_url):
    command.upgrade(alembic_config(), "0006acc-1")
    with get_engine().begin() as connection:
        connection.execute(
            text("INSERT INTO agency (id, name, kind, created_at) VALUES (1, 'P', 'police', :t)"),
            {"t": MADE},
        )
        connection.execute(
            text(
                'INSERT INTO "user" (id, agency_id, email, display_name, role, status, '
                "password_hash, password_changed_at, created_at) VALUES "
                "(1, 1, 'o@example.test', 'O', 'officer', 'active', 'x', :t, :t)"
            ),
            {"t": MADE},
        )
        connection.execute(
            text(
                "INSERT INTO api_token (id, user_id, name, token_hash, created_at, expires_at) "
                "VALUES (1, 1, 'forever', 'h1', :t, NULL), (2, 1, 'dated', 'h2', :t, :end)"
            ),
            {"t": MADE, "end": MADE + timedelta(days=7)},
        )
    migrate()
    with get_engine().connect() as connection:
        rows = connection.execute(
            text("SELECT id, expires_at, scope FROM api_token ORDER BY id")
        ).all()
    ends = [r[1] if isinstance(r[1], datetime) else datetime.fromisoformat(r[1]) for r in rows]
    ends = [e if e.tzinfo else e.replace(tzinfo=UTC) for e in ends]
    assert ends == [MADE + timedelta(days=90), MADE + timedelta(days=7)]
    assert [r[2] for r in rows] == ["read_write", "read_write"]
