"""Serial provenance: the movements' GiST index keyed by a hash of the batch id, not the id.

btree_gist on a text column compares whole ids inside the GiST (penalty and picksplit on text):
inserting 60,000 movements cost 4.2 s of index upkeep with (batch_id, units), 0.7 s with
(hashtextextended(batch_id, 0), units) — the projection's largest cost. Lookups name the hash
and the id (a hash shared by two batches is told apart by the id).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    op.execute("DROP INDEX public_movements_units")
    op.execute(
        "CREATE INDEX public_movements_units ON public_movements"
        " USING gist (hashtextextended(batch_id, 0), units)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX public_movements_units")
    op.execute(
        "CREATE INDEX public_movements_units ON public_movements USING gist (batch_id, units)"
    )
