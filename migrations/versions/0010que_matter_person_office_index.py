"""charging: an index of a person's matters at an office, for the policy's SQL condition

The prosecutor's queue orders, filters and counts in SQL by the policy's answer on each
person's intake clock (hub.disclosure.grants_sql), which asks per row whether the person has a
matter at the viewer's office ("office_matter"). With only the office's covering index
(0009pro) and the person's, SQLite chose the office's and walked all of the office's matters
for each row: at 10 times the demo the queue's query took 45 ms, with this index 15 ms
(bench/bench_queue.py).

Revision ID: 0010que
Revises: 0010eqv
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010que"
down_revision: str | None = "0010eqv"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain CREATE INDEX, as 0009pro: a batch rebuild on SQLite would drop the triggers.
    op.create_index(
        "ix_charging_matter_person_office",
        "charging_matter",
        ["person_id", "prosecuting_agency_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_charging_matter_person_office", table_name="charging_matter")
