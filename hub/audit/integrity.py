"""Is the database still guarding the log? The append-only triggers of migration 0002audit must
all be present and enabled, and on PostgreSQL each change they refused is counted in a sequence
that no rollback undoes (CJIS AU-9: protected, with an alert when tampering is tried)."""

from sqlalchemy import Connection, text

SQLITE_TRIGGERS = frozenset(
    {
        "log_entry_append_only_insert",
        "log_entry_append_only_update",
        "log_entry_append_only_delete",
        "tree_head_append_only_update",
        "tree_head_append_only_delete",
        "log_retention_guard_insert",
        "log_retention_guard_delete",
        "log_retention_guard_update",
    }
)
POSTGRES_TRIGGERS = frozenset(
    {
        "log_entry_guard_row",
        "log_entry_no_delete",
        "log_entry_no_truncate",
        "tree_head_guard_row",
        "tree_head_no_delete",
        "tree_head_no_truncate",
        "log_retention_guard_row",
        "log_retention_no_insert_delete",
        "log_retention_no_truncate",
    }
)


def missing_triggers(connection: Connection) -> list[str]:
    """Names of the guarding triggers that are gone (or disabled, on PostgreSQL)."""
    if connection.dialect.name == "postgresql":
        present = connection.execute(
            text(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D' "
                "AND tgrelid IN ('log_entry'::regclass, 'tree_head'::regclass, "
                "'log_retention'::regclass)"
            )
        ).scalars()
        return sorted(POSTGRES_TRIGGERS - set(present))
    present = connection.execute(
        text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    ).scalars()
    return sorted(SQLITE_TRIGGERS - set(present))


def refused_changes(connection: Connection) -> int | None:
    """How many changes to the log the database has refused since it was set up; None where
    the database cannot keep count (SQLite rolls the count back with the refused statement)."""
    if connection.dialect.name != "postgresql":
        return None
    row = connection.execute(text("SELECT last_value, is_called FROM log_refused_change_seq")).one()
    return int(row[0]) if row[1] else 0
