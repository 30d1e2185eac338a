"""charging: each matter's standing outcome, kept by a trigger, indexed with the office

The prosecutor's queue is the office's matters without a standing decision other than a
request for more information. Finding that walked every matter's decisions: at 100 times the
demo, 11,852 matters of one office to keep its 3,552 (bench/bench_queue.py). The outcome of a
matter's newest decision is now a column of the matter, filled from the decisions here and set
by a trigger as each decision is inserted, in the inserting transaction and whoever inserts
(the services, the demo's bulk rows, a database client): the same guarantee as the triggers
that keep decisions immutable (0002ref). Decisions are never updated or deleted, so an insert
is the only change to follow.

Revision ID: 0011que
Revises: 0010que
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011que"
down_revision: str | None = "0010que"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OUTCOMES = ("file", "decline", "divert", "more_information")
_INDEX = "ix_charging_matter_office_standing"
_TRIGGER = "charging_decision_standing_outcome"

# The newest decision by id: a correction supersedes an older one, so the newest is never
# superseded (hub.referrals.officer_feedback.current_decisions reads the same one). A decision
# inserted with an older id than one already there (an import, say) changes nothing.
_NEWEST = (
    "NOT EXISTS (SELECT 1 FROM charging_decision later "
    "WHERE later.matter_id = NEW.matter_id AND later.id > NEW.id)"
)


def upgrade() -> None:
    # Plain ALTER TABLE and CREATE INDEX, as 0009pro: a batch rebuild on SQLite would drop
    # the triggers.
    op.add_column(
        "charging_matter",
        sa.Column(
            "standing_outcome",
            sa.Enum(*_OUTCOMES, name="decisionoutcome", native_enum=False, length=32),
            nullable=True,
        ),
    )
    op.create_index(
        _INDEX,
        "charging_matter",
        [
            "prosecuting_agency_id",
            "standing_outcome",
            "arrested_at",
            "id",
            "person_id",
            "referral_id",
        ],
    )
    # After the index: PostgreSQL refuses CREATE INDEX on a table with pending trigger events,
    # which this UPDATE queues (the equity version's deferred triggers, 0010eqv).
    op.execute(
        "UPDATE charging_matter SET standing_outcome = ("
        "SELECT d.outcome FROM charging_decision d WHERE d.matter_id = charging_matter.id "
        "ORDER BY d.id DESC LIMIT 1) "
        "WHERE id IN (SELECT matter_id FROM charging_decision)"
    )
    set_it = (
        "UPDATE charging_matter SET standing_outcome = NEW.outcome "
        f"WHERE id = NEW.matter_id AND {_NEWEST};"
    )
    if op.get_bind().dialect.name == "postgresql":
        # The planner's estimate of the office's awaiting matters, from the filled column (the
        # statistics from before it guessed 221 rows of 3,552 at 100 times the demo).
        op.execute("ANALYZE charging_matter")
        op.execute(
            f"""
            CREATE FUNCTION hub_keep_standing_outcome() RETURNS trigger AS $$
            BEGIN
                {set_it}
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            f"CREATE TRIGGER {_TRIGGER} AFTER INSERT ON charging_decision "
            "FOR EACH ROW EXECUTE FUNCTION hub_keep_standing_outcome()"
        )
        return
    op.execute(f"CREATE TRIGGER {_TRIGGER} AFTER INSERT ON charging_decision BEGIN {set_it} END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {_TRIGGER} ON charging_decision")
        op.execute("DROP FUNCTION IF EXISTS hub_keep_standing_outcome()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {_TRIGGER}")
    op.drop_index(_INDEX, table_name="charging_matter")
    op.drop_column("charging_matter", "standing_outcome")
