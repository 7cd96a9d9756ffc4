"""Settlement batches: the batch each executed trade settles in (`SettlementBatchOpened`).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.execute("ALTER TABLE trades ADD COLUMN batch_id text")
    op.execute("CREATE INDEX trades_by_batch ON trades (batch_id) WHERE batch_id IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP INDEX trades_by_batch")
    op.execute("ALTER TABLE trades DROP COLUMN batch_id")
