"""Disclosure policy: consent events (42 CFR 2.35 irrevocability, expiry event) and break-glass
review.

Revision ID: 0002policy
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db

revision: str = "0002policy"
down_revision: str | None = "0002acc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("irrevocable_event_at", hub.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("expiry_event_at", hub.db.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("break_glass", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reviewed_at", hub.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("reviewed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_break_glass_reviewed_by_id_user", "user", ["reviewed_by_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("break_glass", schema=None) as batch_op:
        batch_op.drop_constraint("fk_break_glass_reviewed_by_id_user", type_="foreignkey")
        batch_op.drop_column("reviewed_by_id")
        batch_op.drop_column("reviewed_at")
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.drop_column("expiry_event_at")
        batch_op.drop_column("irrevocable_event_at")
