"""log_next_place(): the log's lock and its last entry in one round trip (PostgreSQL)

Every disclosing request takes the log's advisory lock and then reads the last entry, in two
statements, while every other disclosing request waits for the lock. A function does both in
one call; each statement in it takes a fresh snapshot (READ COMMITTED), so the read after the
lock sees the entries its previous holder committed. SQLite has no such lock (its write lock
is the transaction itself) and gets nothing here.

Revision ID: 0005logplace
Revises: 0004load
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005logplace"
down_revision: str | None = "0004load"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# lock_id is hub.audit.log._APPEND_LOCK_ID: the number that names the log's advisory lock.
NEXT_PLACE = """
CREATE FUNCTION log_next_place(lock_id bigint, OUT last_seq bigint, OUT last_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_id);
    SELECT seq, recorded_at INTO last_seq, last_at FROM log_entry ORDER BY seq DESC LIMIT 1;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(NEXT_PLACE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION log_next_place(bigint)")
