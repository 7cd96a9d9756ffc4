"""A hold carries its holder's reference (a listing or order id), to be found again by it.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"


def upgrade() -> None:
    op.execute("ALTER TABLE holds ADD COLUMN reference text")
    op.execute(
        """
        UPDATE holds SET reference = e.data->>'reference'
        FROM events e
        WHERE e.type = 'tanhui.registry.HoldPlaced.v1' AND e.data->>'hold_id' = holds.id
          AND e.data->>'reference' IS NOT NULL
        """
    )
    op.execute(
        "CREATE INDEX holds_reference ON holds (holder, reference) WHERE reference IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX holds_reference")
    op.execute("ALTER TABLE holds DROP COLUMN reference")
