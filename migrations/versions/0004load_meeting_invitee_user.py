"""index meeting_invitee by user: a member's meeting list no longer scans every invitation

Found by the load test (bench/load): each work-group page of a member read the whole
meeting_invitee table. A plain CREATE INDEX, no table rebuild.

Revision ID: 0004load
Revises: 0003console
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004load"
down_revision: str | None = "0003console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_meeting_invitee_user_id", "meeting_invitee", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_meeting_invitee_user_id", table_name="meeting_invitee")
