"""privacy console: review flags; log indexes for keyset paging by each filter

Plain CREATE INDEX only: on SQLite a batch (copy-and-move) rebuild of log_entry would drop the
append-only triggers of 0002audit.

Revision ID: 0003console
Revises: 0002audit
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db

revision: str = "0003console"
down_revision: str | None = '0003wg'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LOG_INDEXES = {
    "ix_log_entry_agency_seq": ["actor_agency_id", "seq"],
    "ix_log_entry_role_seq": ["actor_role", "seq"],
    "ix_log_entry_tag_seq": ["tag", "seq"],
    "ix_log_entry_purpose_seq": ["purpose", "seq"],
    "ix_log_entry_outcome_seq": ["outcome", "seq"],
}


def upgrade() -> None:
    op.create_table(
        "review_flag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "rule",
            sa.Enum(
                "break_glass",
                "outside_relationship",
                "unusual_volume",
                "after_hours",
                "denied",
                "sign_in_failures",
                "lockout",
                "new_address",
                name="flagrule",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("subject_user_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("log_seqs", sa.JSON(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("open", "reviewed", name="flagstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(["reviewed_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_review_flag_key", "review_flag", ["key"])
    op.create_index("ix_review_flag_subject_user_id", "review_flag", ["subject_user_id"])
    op.create_index("ix_review_flag_person_id", "review_flag", ["person_id"])
    for name, columns in _LOG_INDEXES.items():
        op.create_index(name, "log_entry", columns)


def downgrade() -> None:
    for name in _LOG_INDEXES:
        op.drop_index(name, table_name="log_entry")
    op.drop_index("ix_review_flag_person_id", table_name="review_flag")
    op.drop_index("ix_review_flag_subject_user_id", table_name="review_flag")
    op.drop_index("ix_review_flag_key", table_name="review_flag")
    op.drop_table("review_flag")
