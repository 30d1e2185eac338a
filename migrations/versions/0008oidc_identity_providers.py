"""identity: signing in through an agency's own OpenID provider

Issue 18, item 1. `identity_provider` holds each agency's provider as the program office set
it (never its client secret, which stays in the environment); `identity_link` ties a
provider's subject to an invited account; `oidc_authorization` keeps the state, nonce and PKCE
verifier of a sign-in in flight; `oidc_session` says which hub sessions a provider sign-in
opened, so that its back-channel logout ends them.

Revision ID: 0008oidc
Revises: 0008apic
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hub.db

revision: str = '0008oidc'
down_revision: str | None = "0008apic"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('identity_provider',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('secret_variable', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('allowed_domains', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('trust_mfa', sa.Boolean(), nullable=False),
    sa.Column('trusted_acr', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('changed_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agency_id')
    )
    op.create_table('oidc_authorization',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('browser_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('code_verifier', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', hub.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('state_hash')
    )
    op.create_table('identity_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('created_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('issuer', 'subject'),
    sa.UniqueConstraint('user_id')
    )
    op.create_table('oidc_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('sid', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('created_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['user_session.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id')
    )
    with op.batch_alter_table('oidc_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oidc_session_sid'), ['sid'], unique=False)
        batch_op.create_index(batch_op.f('ix_oidc_session_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('oidc_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oidc_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_oidc_session_sid'))

    op.drop_table('oidc_session')
    op.drop_table('identity_link')
    op.drop_table('oidc_authorization')
    op.drop_table('identity_provider')
