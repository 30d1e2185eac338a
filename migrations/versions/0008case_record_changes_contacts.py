"""caserecord: the history of a client's record and the contact log

Issue 14. `record_change` keeps every saved change to a section of a client's record (who, when,
the value before and after, sealed at rest), one version counter per section, unique, so a save
based on a stale version is refused rather than overwriting. `contact_entry` is the contact log
(date, kind, kind of place, a sealed note with its own category). ProgramStatus gains
`re_engaged` (stored as text: no schema change).

Revision ID: 0008case
Revises: 0007mail
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hub.crypto
import hub.db

revision: str = '0008case'
down_revision: str | None = '0007mail'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('contact_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('contact_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('outreach_attempt', 'in_person', 'phone', 'at_precinct', 'in_jail', name='contactkind', native_enum=False, length=32), nullable=False),
    sa.Column('place_kind', sa.Enum('street', 'shelter', 'office', 'home', 'precinct', 'jail', 'hospital', 'treatment', 'other', name='placekind', native_enum=False, length=32), nullable=False),
    sa.Column('note', hub.crypto.EncryptedText(), nullable=True),
    sa.Column('note_category', sa.Enum('identity', 'demographics', 'contact', 'referral', 'legal', 'engagement', 'plan', 'housing', 'health', 'treatment', name='category', native_enum=False, length=32), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contact_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_entry_person_id'), ['person_id'], unique=False)

    op.create_table('record_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('section', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('category', sa.Enum('identity', 'demographics', 'contact', 'referral', 'legal', 'engagement', 'plan', 'housing', 'health', 'treatment', name='category', native_enum=False, length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=False),
    sa.Column('changed_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('previous', hub.crypto.EncryptedText(), nullable=True),
    sa.Column('saved', hub.crypto.EncryptedText(), nullable=False),
    sa.Column('previous_recorded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['previous_recorded_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'section', 'version', name='uq_record_change_version')
    )
    with op.batch_alter_table('record_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_change_person_id'), ['person_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('record_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_change_person_id'))

    op.drop_table('record_change')
    with op.batch_alter_table('contact_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_entry_person_id'))

    op.drop_table('contact_entry')
