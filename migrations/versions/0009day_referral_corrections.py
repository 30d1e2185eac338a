"""referral corrections and withdrawals, the sergeant's approval of an override

Issue 17, item 6: an officer corrects or withdraws a referral made in error within a day (the
reason logged as a code, the note kept on `referral_correction`); a second person, a sergeant,
approves an override of a presumptive exclusion. Item 4: the intake queue's tabs filter on the
open referrals' due dates and on recent completions (ix_referral_agency_intake).

Revision ID: 0009day
Revises: 0009eqt
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hub.db

revision: str = "0009day"
down_revision: str | None = "0009eqt"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = ["wrong_person", "not_eligible", "duplicate", "wrong_agency", "entered_in_error"]


def upgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("override_approved_at", hub.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("override_approved_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("withdrawn_at", hub.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("withdrawn_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_referral_override_approved_by_id_user", "user", ["override_approved_by_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_referral_withdrawn_by_id_user", "user", ["withdrawn_by_id"], ["id"]
        )
        batch_op.create_index(
            "ix_referral_agency_intake",
            ["case_management_agency_id", "intake_done_at", "withdrawn_at", "intake_due_on"],
            unique=False,
        )
    op.create_table(
        "referral_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("corrected_by_id", sa.Integer(), nullable=False),
        sa.Column("corrected_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(*REASONS, name="referralcorrectionreason", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["corrected_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("referral_correction", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referral_correction_referral_id"), ["referral_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("referral_correction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_correction_referral_id"))
    op.drop_table("referral_correction")
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_agency_intake")
        batch_op.drop_constraint("fk_referral_withdrawn_by_id_user", type_="foreignkey")
        batch_op.drop_constraint("fk_referral_override_approved_by_id_user", type_="foreignkey")
        batch_op.drop_column("withdrawn_by_id")
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("override_approved_by_id")
        batch_op.drop_column("override_approved_at")
