"""equity: jail bookings imported from the jail, counted before and after referral; an index
for the equity dashboard

Issue 16, item 3. `jail_booking_import` is one imported month of the jail's bookings (a
re-import supersedes it and keeps it); `jail_booking` holds each booking of a person the hub
knows and the days spent in custody. Read only as counts by hub.equity.outcomes.
`ix_charging_matter_referral_id` lets the dashboard's cube find a referral's charging outcome
without scanning every matter.

Revision ID: 0009eqt
Revises: 0008que
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hub.db

revision: str = "0009eqt"
down_revision: str | None = "0008que"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jail_booking_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("imported_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("imported_by_id", sa.Integer(), nullable=False),
        sa.Column("file_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("superseded_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["imported_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["superseded_by_id"], ["jail_booking_import.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("jail_booking_import", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jail_booking_import_month"), ["month"], unique=False)

    op.create_table(
        "jail_booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("jail_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["jail_booking_import.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("jail_booking", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jail_booking_booked_on"), ["booked_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_jail_booking_import_id"), ["import_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_jail_booking_person_id"), ["person_id"], unique=False)


    # The equity cube looks up each referral's charging matter (its outcome): without this
    # index one scan of charging_matter per referral (bench/bench_equity.py).
    with op.batch_alter_table("charging_matter", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_charging_matter_referral_id"), ["referral_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("charging_matter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_charging_matter_referral_id"))
    with op.batch_alter_table("jail_booking", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jail_booking_person_id"))
        batch_op.drop_index(batch_op.f("ix_jail_booking_import_id"))
        batch_op.drop_index(batch_op.f("ix_jail_booking_booked_on"))
    op.drop_table("jail_booking")
    with op.batch_alter_table("jail_booking_import", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jail_booking_import_month"))
    op.drop_table("jail_booking_import")
