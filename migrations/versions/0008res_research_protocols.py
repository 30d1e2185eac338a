"""research: research protocols

Issue 16, items 5 and 6. `research_protocol` holds an approved study (IRB number, data-use
agreement, recipient, approval period, the variables approved, the 42 CFR 2.52 determination),
in force once a second privacy officer confirms it. The exports themselves are log entries.

Revision ID: 0008res
Revises: 0008kept
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hub.db

revision: str = "0008res"
down_revision: str | None = "0008kept"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "research_protocol",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("irb_number", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column(
            "data_use_agreement", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False
        ),
        sa.Column("recipient_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "recipient_organisation", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False
        ),
        sa.Column("approved_from", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=True),
        sa.Column("part2_conditions_met", sa.Boolean(), nullable=False),
        sa.Column(
            "part2_determined_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True
        ),
        sa.Column(
            "part2_determination", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True
        ),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["confirmed_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("research_protocol")
