"""policy releases: the disclosure policy in force lives in the database, append-only

Revision ID: 0004release
Revises: 0003console
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hub.db

revision: str = "0004release"
down_revision: str | None = "0003console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MESSAGE = "a policy release is never changed: release another policy instead"


def upgrade() -> None:
    op.create_table(
        "policy_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("model_text", sa.Text(), nullable=False),
        sa.Column("policy_text", sa.Text(), nullable=False),
        sa.Column("released_by_id", sa.Integer(), nullable=True),
        sa.Column("released_via", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("released_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["released_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_policy_release_version", "policy_release", ["version"])
    # Append-only, like charging decisions: the services refuse through the ORM, these triggers
    # refuse any client that reaches the database directly.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION hub_refuse_release_change() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{_MESSAGE}';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER policy_release_immutable BEFORE UPDATE OR DELETE ON policy_release "
            "FOR EACH ROW EXECUTE FUNCTION hub_refuse_release_change()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER policy_release_no_{event.lower()} BEFORE {event} ON policy_release "
            f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS policy_release_immutable ON policy_release")
        op.execute("DROP FUNCTION IF EXISTS hub_refuse_release_change()")
    else:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS policy_release_no_{event}")
    op.drop_index("ix_policy_release_version", table_name="policy_release")
    op.drop_table("policy_release")
