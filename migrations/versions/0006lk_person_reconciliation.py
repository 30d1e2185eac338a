"""person reconciliation: a police referral's person who resembles persons on file, for the
case-management agency to reconcile (police learn nothing of the match)

Revision ID: 0006lk
Revises: 0006tile
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db

revision: str = "0006lk"
down_revision: str | None = "0006tile"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_reconciliation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("candidate_ids", sa.JSON(), nullable=True),
        sa.Column("flagged_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("flagged_by_id", sa.Integer(), nullable=False),
        sa.Column("resolved_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("linked_person_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["flagged_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["linked_person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["resolved_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id"),
    )


def downgrade() -> None:
    op.drop_table("person_reconciliation")
