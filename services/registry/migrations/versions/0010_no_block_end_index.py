"""No index on a block's last unit: neighbours are found through the primary key.

`blocks_batch_end (batch_id, end_unit)` served one question — which block ends just before a
given unit — that the primary key answers as well: a batch's blocks cover it without gaps, so
it is the block with the greatest start below that unit. Every block written (a bulk request
of 10,000 transfers writes ~12,000) paid an entry in it, and with stale statistics the
planner used it for the *following* block too, scanning a whole batch per lookup.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX blocks_batch_end")


def downgrade() -> None:
    op.execute("CREATE INDEX blocks_batch_end ON blocks (batch_id, end_unit)")
