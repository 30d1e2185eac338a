"""api clients: agency systems as OAuth 2 clients

Issue 18, item 2. `api_client` is an agency system's client (its secret kept as a hash, its
service account, role, scopes and expiry); `api_client_request` a registration or wider scopes
waiting for a second person; `api_client_token` the bearer tokens issued by POST /oauth/token.
Issue 18, item 6: `signing_key_rotation` holds the statements that announce a new checkpoint
signing key, signed by the old key and the new.

Revision ID: 0008apic
Revises: 0008case
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hub.db

revision: str = "0008apic"
down_revision: str | None = "0008case"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("secret_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "officer",
                "sergeant",
                "case_manager",
                "case_manager_supervisor",
                "prosecutor",
                "defender",
                "coordinator",
                "privacy_officer",
                "admin",
                name="role",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("service_user_id", sa.Integer(), nullable=False),
        sa.Column("scopes", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "active",
                "refused",
                "disabled",
                name="apiclientstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
        ),
        sa.ForeignKeyConstraint(
            ["service_user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_id"),
        sa.UniqueConstraint("service_user_id"),
    )
    with op.batch_alter_table("api_client", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_client_agency_id"), ["agency_id"], unique=False)

    op.create_table(
        "api_client_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("api_client_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "registration",
                "wider_scopes",
                name="apiclientrequestkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("scopes", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "refused",
                "withdrawn",
                name="accessrequeststatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["api_client_id"],
            ["api_client.id"],
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("api_client_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_client_request_api_client_id"), ["api_client_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_api_client_request_status"), ["status"], unique=False)

    op.create_table(
        "api_client_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("api_client_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("scopes", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("issued_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["api_client_id"],
            ["api_client.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("api_client_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_client_token_api_client_id"), ["api_client_id"], unique=False
        )


    op.create_table('signing_key_rotation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('old_key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('new_key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('tree_size', sa.BigInteger(), nullable=False),
    sa.Column('statement', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('new_key')
    )


def downgrade() -> None:
    op.drop_table('signing_key_rotation')
    with op.batch_alter_table("api_client_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_client_token_api_client_id"))

    op.drop_table("api_client_token")
    with op.batch_alter_table("api_client_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_client_request_status"))
        batch_op.drop_index(batch_op.f("ix_api_client_request_api_client_id"))

    op.drop_table("api_client_request")
    with op.batch_alter_table("api_client", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_client_agency_id"))

    op.drop_table("api_client")
