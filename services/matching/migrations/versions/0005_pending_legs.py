"""Legs being secured: a listing's, order's or take's escrow or reservation in flight.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    # Operational, like `idempotency_keys`: not a projection of the log. A row is written
    # before the registry or the settlement system is called and deleted with the commit of
    # what the leg secures; one left behind is a leg nothing uses, released by the sweep.
    op.execute(
        """
        CREATE TABLE pending_legs (
            owner_id    text PRIMARY KEY,
            member      text NOT NULL,
            side        text NOT NULL CHECK (side IN ('buy', 'sell')),
            created_at  timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX pending_legs_age ON pending_legs (created_at)")


def downgrade() -> None:
    op.execute("DROP TABLE pending_legs")
