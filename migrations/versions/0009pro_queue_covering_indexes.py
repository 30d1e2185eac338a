"""charging: covering indexes for the prosecutor's queue

The queue reads every matter of the office awaiting a decision (hub.charging.services.
queue_keys): the office's matters in arrest order, each tested for a standing decision other
than "more information". At 100 times the demo (11,852 matters at the busiest office) that
query took 131 ms on SQLite: a lookup of each matter's row, then of each decision's row for its
outcome, then a sort. With the office, arrest time and the columns the queue reads in one
index, and a decision's matter, outcome and id in another, it reads the indexes alone in
order: 62 ms (bench/bench_queue.py).

Revision ID: 0009pro
Revises: 0009day
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009pro"
down_revision: str | None = "0009day"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain CREATE INDEX: a batch rebuild on SQLite would drop the decision's immutability
    # triggers (0002ref).
    op.create_index(
        "ix_charging_matter_office_arrest",
        "charging_matter",
        ["prosecuting_agency_id", "arrested_at", "id", "person_id", "referral_id"],
    )
    op.create_index(
        "ix_charging_decision_matter_outcome",
        "charging_decision",
        ["matter_id", "outcome", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_charging_decision_matter_outcome", table_name="charging_decision")
    op.drop_index("ix_charging_matter_office_arrest", table_name="charging_matter")
