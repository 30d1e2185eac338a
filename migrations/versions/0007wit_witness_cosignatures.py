"""witness_cosignature: witnesses' cosignatures of the signed heads (c2sp.org/tlog-witness)

The checkpointer sends each new checkpoint to the witnesses of HUB_WITNESSES with a consistency
proof from the size each last cosigned, and keeps the cosignature each returns; receipts carry
them (hub.audit.witnessing, hub.audit.receipts).

Revision ID: 0007wit
Revises: 0006lk
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hub.db

revision: str = "0007wit"
down_revision: str | None = "0006lk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "witness_cosignature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tree_head_id", sa.Integer(), nullable=False),
        sa.Column("witness", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("signature", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("cosigned_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tree_head_id"], ["tree_head.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_witness_cosignature_tree_head_id", "witness_cosignature", ["tree_head_id"]
    )
    op.create_index("ix_witness_cosignature_witness", "witness_cosignature", ["witness"])


def downgrade() -> None:
    op.drop_index("ix_witness_cosignature_witness", table_name="witness_cosignature")
    op.drop_index("ix_witness_cosignature_tree_head_id", table_name="witness_cosignature")
    op.drop_table("witness_cosignature")
