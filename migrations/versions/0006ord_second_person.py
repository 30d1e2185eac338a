"""court orders and caseload moves take a second person (issue 12, items 3 and 5)

court_order: the judge, and who confirmed it when. An order takes effect only once a privacy
officer other than its recorder confirms it, so orders recorded before this revision stay
unconfirmed and grant nothing until confirmed (fail closed). court_order_document: the order's
uploaded copy, sealed at rest. caseload_request: a case manager's request for a client, which
a supervisor approves or refuses.

court_order is rebuilt by batch on SQLite (a new foreign key); it has no triggers to lose.

Revision ID: 0006ord
Revises: 0005catsearch
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hub.crypto
import hub.db

revision: str = "0006ord"
down_revision: str | None = "0005catsearch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("court_order", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "judge",
                sqlmodel.sql.sqltypes.AutoString(length=200),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(sa.Column("confirmed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("confirmed_at", hub.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            "fk_court_order_confirmed_by_id_user", "user", ["confirmed_by_id"], ["id"]
        )
    op.create_table(
        "court_order_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("court_order_id", sa.Integer(), nullable=False),
        sa.Column("content", hub.crypto.EncryptedText(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["court_order_id"], ["court_order.id"]),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("court_order_id"),
    )
    op.create_table(
        "caseload_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("previous_case_manager_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "refused",
                name="caseloadrequeststatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["previous_case_manager_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"]),
        sa.ForeignKeyConstraint(["requested_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_caseload_request_person_id", "caseload_request", ["person_id"])
    op.create_index("ix_caseload_request_agency_id", "caseload_request", ["agency_id"])


def downgrade() -> None:
    op.drop_index("ix_caseload_request_agency_id", table_name="caseload_request")
    op.drop_index("ix_caseload_request_person_id", table_name="caseload_request")
    op.drop_table("caseload_request")
    op.drop_table("court_order_document")
    with op.batch_alter_table("court_order", schema=None) as batch_op:
        batch_op.drop_constraint("fk_court_order_confirmed_by_id_user", type_="foreignkey")
        batch_op.drop_column("confirmed_at")
        batch_op.drop_column("confirmed_by_id")
        batch_op.drop_column("judge")
