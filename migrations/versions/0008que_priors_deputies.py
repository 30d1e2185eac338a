"""charging: earlier matters and warrants, and the deputy who handles a matter

Issue 15, items 3 and 5. `prior_matter` and `warrant` hold a client's earlier court matters and
warrants (legal category), entered by a prosecutor or imported from the prosecutor's case
system. `matter_deputy` names the deputy (liaison prosecutor) of the office who handles a
charging matter; a reassignment ends the row and starts another.

Revision ID: 0008que
Revises: 0008eq
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hub.db

revision: str = "0008que"
down_revision: str | None = "0008eq"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SOURCE = sa.Enum("entered", "imported", name="priorsource", native_enum=False, length=32)


def upgrade() -> None:
    op.create_table(
        "prior_matter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("case_number", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("court", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("offense_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column(
            "offense_description", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False
        ),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("disposed_on", sa.Date(), nullable=True),
        sa.Column("disposition", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("source", _SOURCE, nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("prior_matter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prior_matter_person_id"), ["person_id"], unique=False)
    op.create_table(
        "warrant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("court", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active", "served", "recalled", "quashed",
                name="warrantstatus", native_enum=False, length=32,
            ),
            nullable=False,
        ),
        sa.Column("source", _SOURCE, nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("warrant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_warrant_person_id"), ["person_id"], unique=False)
    op.create_table(
        "matter_deputy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("matter_id", sa.Integer(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("assigned_by_id", sa.Integer(), nullable=False),
        sa.Column("assigned_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["assigned_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["deputy_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["matter_id"], ["charging_matter.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("matter_deputy", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_matter_deputy_matter_id"), ["matter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_matter_deputy_deputy_id"), ["deputy_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("matter_deputy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_matter_deputy_deputy_id"))
        batch_op.drop_index(batch_op.f("ix_matter_deputy_matter_id"))
    op.drop_table("matter_deputy")
    with op.batch_alter_table("warrant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_warrant_person_id"))
    op.drop_table("warrant")
    with op.batch_alter_table("prior_matter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prior_matter_person_id"))
    op.drop_table("prior_matter")
