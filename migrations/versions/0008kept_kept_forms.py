"""kept_form: forms posted after their session timed out, kept for their author for 24 hours

Issue 17, "nothing typed is lost". The fields are sealed at rest (HUB_DATA_KEYS).

Revision ID: 0008kept
Revises: 0007mail
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hub.crypto
import hub.db

revision: str = "0008kept"
down_revision: str | None = "0007mail"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kept_form",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("fields", hub.crypto.EncryptedText(), nullable=False),
        sa.Column("kept_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kept_form", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kept_form_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kept_form", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kept_form_user_id"))
    op.drop_table("kept_form")
