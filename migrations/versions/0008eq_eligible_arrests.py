"""equity: the eligible population imported from the police department

Issue 16, item 2. `eligible_arrest_import` is one imported month of one police agency's
counts of arrests for LEAD-eligible offenses (a re-import supersedes it and keeps it);
`eligible_arrest_count` holds its counts per area, race/ethnicity group and gender.
Aggregates only: no person is named. The policy_group role needs no change here: roles are
stored as plain strings.

Revision ID: 0008eq
Revises: 0008plan
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hub.db

revision: str = '0008eq'
down_revision: str | None = "0008plan"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('eligible_arrest_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('imported_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=False),
    sa.Column('file_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('superseded_at', hub.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('superseded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], ),
    sa.ForeignKeyConstraint(['imported_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['eligible_arrest_import.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('eligible_arrest_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_eligible_arrest_import_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_eligible_arrest_import_month'), ['month'], unique=False)

    op.create_table('eligible_arrest_count',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('area', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('race_group', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('gender', sa.Integer(), nullable=False),
    sa.Column('arrests', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['eligible_arrest_import.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('eligible_arrest_count', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_eligible_arrest_count_import_id'), ['import_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('eligible_arrest_count', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_eligible_arrest_count_import_id'))

    op.drop_table('eligible_arrest_count')
    with op.batch_alter_table('eligible_arrest_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_eligible_arrest_import_month'))
        batch_op.drop_index(batch_op.f('ix_eligible_arrest_import_agency_id'))

    op.drop_table('eligible_arrest_import')
