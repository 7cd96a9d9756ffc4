"""Holds: escrow (for a market), pledge (for a lender), freeze (for a regulator).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE holds (
            id          text PRIMARY KEY,
            account     text NOT NULL REFERENCES accounts,
            purpose     text NOT NULL CHECK (purpose IN ('escrow', 'pledge', 'freeze')),
            holder      text NOT NULL,
            status      text NOT NULL CHECK (status IN ('active', 'released', 'executed')),
            quantity    bigint NOT NULL,
            expires_at  timestamptz,
            placed_at   timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX holds_expiry ON holds (expires_at) WHERE status = 'active'")
    op.execute("CREATE INDEX blocks_hold ON blocks (hold_id) WHERE hold_id IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP INDEX blocks_hold")
    op.execute("DROP TABLE holds")
