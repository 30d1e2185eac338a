"""Part 2 by source: an agency can be a Part 2 program, and single-row client records say who
recorded them

42 CFR 2.11 and HL7 DS4P: what a Part 2 program records about a patient is Part 2 data whatever
field it sits in, so the policy layer labels a datum by its recording program (plan goals and
case notes already name their author; contact, housing and health rows now do too). Existing
agencies are not Part 2 programs until the program office says so; existing rows name no one.

Revision ID: 0006p2
Revises: 0006acc
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006p2"
down_revision: str | None = "0006acc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RECORDED = ("person_contact", "housing_record", "health_record")


def upgrade() -> None:
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("part2_program", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    for table in _RECORDED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("recorded_by_id", sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                f"fk_{table}_recorded_by_id_user", "user", ["recorded_by_id"], ["id"]
            )


def downgrade() -> None:
    for table in reversed(_RECORDED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_recorded_by_id_user", type_="foreignkey")
            batch_op.drop_column("recorded_by_id")
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.drop_column("part2_program")
