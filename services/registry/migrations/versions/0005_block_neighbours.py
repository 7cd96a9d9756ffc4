"""Index for finding the block that ends just before a moved range (merging neighbours).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX blocks_batch_end ON blocks (batch_id, end_unit)")


def downgrade() -> None:
    op.execute("DROP INDEX blocks_batch_end")
