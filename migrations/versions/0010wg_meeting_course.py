"""a meeting's course: dismissed proposals, attendance and the recorder

Issue 17, item 3: the coordinator dismisses a proposal with a reason (`proposal_dismissal`, its
note sealed), records who attended (`meeting_invitee.attended`) and names a recorder
(`work_group_meeting.recorder_id`).

Revision ID: 0010wg
Revises: 0009pro
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hub.crypto
import hub.db

revision: str = "0010wg"
down_revision: str | None = "0009pro"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = ["already_handled", "not_for_this_group", "discussed_elsewhere"]


def upgrade() -> None:
    with op.batch_alter_table("work_group_meeting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorder_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_work_group_meeting_recorder_id_user", "user", ["recorder_id"], ["id"]
        )
    with op.batch_alter_table("meeting_invitee", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attended", sa.Boolean(), nullable=True))
    op.create_table(
        "proposal_dismissal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("proposal_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(*REASONS, name="dismissalreason", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("note", hub.crypto.EncryptedText(), nullable=True),
        sa.Column("dismissed_by_id", sa.Integer(), nullable=False),
        sa.Column("dismissed_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("undone_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["dismissed_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["meeting_id"], ["work_group_meeting.id"]),
        sa.ForeignKeyConstraint(["undone_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("proposal_dismissal", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proposal_dismissal_meeting_id"), ["meeting_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_proposal_dismissal_proposal_key"), ["proposal_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("proposal_dismissal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_dismissal_proposal_key"))
        batch_op.drop_index(batch_op.f("ix_proposal_dismissal_meeting_id"))
    op.drop_table("proposal_dismissal")
    with op.batch_alter_table("meeting_invitee", schema=None) as batch_op:
        batch_op.drop_column("attended")
    with op.batch_alter_table("work_group_meeting", schema=None) as batch_op:
        batch_op.drop_constraint("fk_work_group_meeting_recorder_id_user", type_="foreignkey")
        batch_op.drop_column("recorder_id")
