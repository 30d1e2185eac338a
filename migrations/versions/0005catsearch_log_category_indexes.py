"""log: one partial index on seq per disclosure category, for the console's category search

Without them a search by category scanned the log newest first, testing a LIKE on every entry
until a page was found: seconds at millions of entries when the category (or the category with
another filter) is rare. Plain CREATE INDEX only, as in 0003console: a batch rebuild of
log_entry on SQLite would drop the append-only triggers of 0002audit. Each condition is the
text of hub.audit.models.lists_category, which the search repeats word for word; the category
names are frozen here as they were at this revision.

On PostgreSQL also statistics on the categories text (CREATE STATISTICS on an expression,
PostgreSQL 14 and later): without them the planner guesses a LIKE on that expression matches
0.01% of entries whatever the category, so it prefers a category's index even with a client
filter that would find that client's 100 entries at once. The statistics cost nothing on
append; ANALYZE fills them (here, for a log that already holds entries).

Revision ID: 0005catsearch
Revises: 0005logplace
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005catsearch"
down_revision: str | None = "0005logplace"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CATEGORIES = (
    "identity",
    "demographics",
    "contact",
    "referral",
    "legal",
    "engagement",
    "plan",
    "housing",
    "health",
    "treatment",
)
_STATISTICS = "log_entry_categories_text"


def upgrade() -> None:
    for category in _CATEGORIES:
        condition = sa.text(f"CAST(categories AS TEXT) LIKE '%\"{category}\"%'")
        op.create_index(
            f"ix_log_entry_cat_{category}",
            "log_entry",
            ["seq"],
            sqlite_where=condition,
            postgresql_where=condition,
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE STATISTICS {_STATISTICS} ON ((categories)::text) FROM log_entry")
        # Only a log that holds entries: an append-only log may take months to grow the 10%
        # that wakes autoanalyze. Never an empty one: its statistics would say "empty" to the
        # plan that the append guard's trigger caches (max(seq) by a scan, not the key), and a
        # bulk load into it (hub demo --scale) would crawl.
        if op.get_bind().execute(sa.text("SELECT EXISTS (SELECT 1 FROM log_entry)")).scalar():
            op.execute("ANALYZE log_entry")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP STATISTICS {_STATISTICS}")
    for category in _CATEGORIES:
        op.drop_index(f"ix_log_entry_cat_{category}", table_name="log_entry")
