"""accounts: enrolment links, access requests approved by a second person, token scope

Issue 12, items 2 and 6. `enrolment_link` holds the one-time links through which a new user
sets their own password and second factor (the creator never learns them); `access_request`
holds new access (an account, a role, an account enabled again) until a second person approves
it. `api_token` gains a scope (read, or read and write) and the reason it was revoked, and
every token now expires: tokens issued without an end get one 90 days after their creation.
Tokens issued before this revision keep the read-and-write power they had.

Revision ID: 0006acc
Revises: 0006ord
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hub.db

revision: str = "0006acc"
down_revision: str | None = "0006ord"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROLE = (
    "officer",
    "sergeant",
    "case_manager",
    "case_manager_supervisor",
    "prosecutor",
    "defender",
    "coordinator",
    "privacy_officer",
    "admin",
)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


def upgrade() -> None:
    op.create_table(
        "enrolment_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("pending_totp_sealed", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["issued_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_enrolment_link_user_id", "enrolment_link", ["user_id"])
    op.create_table(
        "access_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            _enum("accessrequestkind", "new_account", "role_change", "re_enable"),
            nullable=False,
        ),
        sa.Column("role", _enum("role", *_ROLE), nullable=False),
        sa.Column("role_before", _enum("role", *_ROLE), nullable=True),
        sa.Column(
            "status",
            _enum("accessrequeststatus", "pending", "approved", "refused", "withdrawn"),
            nullable=False,
        ),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["requested_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_access_request_user_id", "access_request", ["user_id"])
    op.create_index("ix_access_request_status", "access_request", ["status"])

    with op.batch_alter_table("api_token") as batch_op:
        batch_op.add_column(
            sa.Column("revoked_reason", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True)
        )
        batch_op.add_column(
            sa.Column("scope", _enum("tokenscope", "read", "read_write"), nullable=True)
        )
    bind = op.get_bind()
    tokens = sa.table(
        "api_token",
        sa.column("id", sa.Integer()),
        sa.column("created_at", hub.db.UTCDateTime(timezone=True)),
        sa.column("expires_at", hub.db.UTCDateTime(timezone=True)),
        sa.column("scope", sa.String(32)),
    )
    bind.execute(tokens.update().values(scope="read_write"))
    for token_id, created_at in bind.execute(
        sa.select(tokens.c.id, tokens.c.created_at).where(tokens.c.expires_at.is_(None))
    ).all():
        bind.execute(
            tokens.update()
            .where(tokens.c.id == token_id)
            .values(expires_at=created_at + timedelta(days=90))
        )
    with op.batch_alter_table("api_token") as batch_op:
        batch_op.alter_column(
            "scope", existing_type=_enum("tokenscope", "read", "read_write"), nullable=False
        )
        batch_op.alter_column(
            "expires_at", existing_type=hub.db.UTCDateTime(timezone=True), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch_op:
        batch_op.alter_column(
            "expires_at", existing_type=hub.db.UTCDateTime(timezone=True), nullable=True
        )
        batch_op.drop_column("scope")
        batch_op.drop_column("revoked_reason")
    op.drop_index("ix_access_request_status", table_name="access_request")
    op.drop_index("ix_access_request_user_id", table_name="access_request")
    op.drop_table("access_request")
    op.drop_index("ix_enrolment_link_user_id", table_name="enrolment_link")
    op.drop_table("enrolment_link")
