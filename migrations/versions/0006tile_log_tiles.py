"""log_tile: the log's Merkle tree as C2SP tlog-tiles, so proofs read O(log n) tiles

Receipts, the accounting of disclosures and `hub audit consistency` read every leaf hash from 0
to the tree size to build a proof: seconds and hundreds of megabytes per receipt at millions
of entries. The checkpointer now keeps the tree as tiles of 256 hashes per level (full tiles
and the rightmost partial tile of each level), written in the transaction that signs the head
(hub.audit.tiles). The table starts empty: the first checkpoint signed after this migration
builds the tiles of the entries already logged (one pass over their leaf hashes); until then
proofs are built from the leaves as before.

Revision ID: 0006tile
Revises: 0006p2
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006tile"
down_revision: str | None = "0006p2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "log_tile",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tile_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "tile_index"),
    )


def downgrade() -> None:
    op.drop_table("log_tile")
