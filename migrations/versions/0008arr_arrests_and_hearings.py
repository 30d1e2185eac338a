"""arrests: reported arrests of participants, and court dates on charging matters

Issue 15, items 1 and 2. `arrest_report` holds an arrest as any police agency or a
prosecutor's case system reported it (any offense, its level, whether there is a victim, the
particulars of the person), matched server side to a participant (a charging matter opens) or
left for case management to reconcile. `court_hearing` holds a matter's court dates as they
stand, `court_hearing_change` each step of their history (set, moved, cancelled).

Revision ID: 0008arr
Revises: 0008res
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hub.crypto
import hub.db

revision: str = '0008arr'
down_revision: str | None = '0008res'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('arrest_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reported_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reported_by_id', sa.Integer(), nullable=False),
    sa.Column('reporting_agency_id', sa.Integer(), nullable=False),
    sa.Column('first_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('last_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('offense_tracking_number', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('offense_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('offense_description', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('offense_level', sa.Enum('misdemeanor', 'gross_misdemeanor', 'felony', name='offenselevel', native_enum=False, length=32), nullable=False),
    sa.Column('has_victim', sa.Boolean(), nullable=False),
    sa.Column('arrested_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('arrest_place', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('status', sa.Enum('matched', 'to_reconcile', 'linked', 'not_a_participant', name='arrestreportstatus', native_enum=False, length=32), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('matter_id', sa.Integer(), nullable=True),
    sa.Column('candidate_ids', sa.JSON(), nullable=True),
    sa.Column('reconciled_by_id', sa.Integer(), nullable=True),
    sa.Column('reconciled_at', hub.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['matter_id'], ['charging_matter.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['reconciled_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['reported_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['reporting_agency_id'], ['agency.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('matter_id'),
    sa.UniqueConstraint('offense_tracking_number')
    )
    with op.batch_alter_table('arrest_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_arrest_report_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_arrest_report_status'), ['status'], unique=False)

    op.create_table('court_hearing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('matter_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('arraignment', 'pretrial', 'trial', 'review', 'other', name='hearingkind', native_enum=False, length=32), nullable=False),
    sa.Column('starts_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('courtroom', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('cancelled_at', hub.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('set_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['matter_id'], ['charging_matter.id'], ),
    sa.ForeignKeyConstraint(['set_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('court_hearing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_court_hearing_matter_id'), ['matter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_court_hearing_starts_at'), ['starts_at'], unique=False)

    op.create_table('court_hearing_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hearing_id', sa.Integer(), nullable=False),
    sa.Column('change', sa.Enum('set', 'moved', 'cancelled', name='hearingchange', native_enum=False, length=32), nullable=False),
    sa.Column('kind', sa.Enum('arraignment', 'pretrial', 'trial', 'review', 'other', name='hearingkind', native_enum=False, length=32), nullable=False),
    sa.Column('starts_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('courtroom', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=False),
    sa.Column('changed_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['hearing_id'], ['court_hearing.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('court_hearing_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_court_hearing_change_hearing_id'), ['hearing_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('court_hearing_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_court_hearing_change_hearing_id'))

    op.drop_table('court_hearing_change')
    with op.batch_alter_table('court_hearing', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_court_hearing_starts_at'))
        batch_op.drop_index(batch_op.f('ix_court_hearing_matter_id'))

    op.drop_table('court_hearing')
    with op.batch_alter_table('arrest_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_arrest_report_status'))
        batch_op.drop_index(batch_op.f('ix_arrest_report_person_id'))

    op.drop_table('arrest_report')
