"""mail: the outbox and each user's e-mail preference

Issue 18, item 3. `outbox` holds every mail the hub sends (notifications, daily digests,
invitations with the enrolment link, security alerts), written in the transaction of the event
that causes it and sent by `hub mail send` with retries; the body is sealed at rest.
`mail_preference` says how a user wants notifications by e-mail.

Revision ID: 0007mail
Revises: 0007wit
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hub.crypto
import hub.db

revision: str = '0007mail'
down_revision: str | None = "0007wit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mail_preference',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('delivery', sa.Enum('immediate', 'daily_digest', 'off', name='maildelivery', native_enum=False, length=32), nullable=False),
    sa.Column('changed_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('to_address', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('kind', sa.Enum('notification', 'digest', 'invitation', 'security_alert', name='mailkind', native_enum=False, length=32), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('body', hub.crypto.EncryptedText(), nullable=False),
    sa.Column('status', sa.Enum('held', 'pending', 'sent', 'failed', 'folded', name='mailstatus', native_enum=False, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', hub.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('created_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', hub.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('digest_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['digest_id'], ['outbox.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_user_id'))
        batch_op.drop_index('ix_outbox_status_next_attempt_at')

    op.drop_table('outbox')
    op.drop_table('mail_preference')
