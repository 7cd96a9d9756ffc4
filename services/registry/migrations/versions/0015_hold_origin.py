"""Holds remember the account their units were first escrowed from (delivery under hold).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"


def upgrade() -> None:
    # NULL: the hold's own account. A hold delivered on under the holder's control (execute
    # with keep_held) names the account the units came from, so that returning them there is
    # not a purchase (no acquisition date, no same-day resale guard).
    op.execute("ALTER TABLE holds ADD COLUMN origin_account text")
    # Filled from the log (a database migrated down and up again keeps it): each delivered
    # hold's origin is its parent's origin, or the parent's own account, in log order.
    op.execute(
        """
        WITH RECURSIVE delivered AS (
            SELECT e.data->>'delivered_hold_id' AS id, e.data->>'hold_id' AS parent, e.sequence
            FROM events e
            WHERE e.type = 'tanhui.registry.HoldExecuted.v1' AND e.data->>'delivered_hold_id' IS NOT NULL
        ), origin AS (
            SELECT d.id, h.account AS origin_account
            FROM delivered d JOIN holds h ON h.id = d.parent
            WHERE d.parent NOT IN (SELECT id FROM delivered)
            UNION ALL
            SELECT d.id, o.origin_account FROM delivered d JOIN origin o ON o.id = d.parent
        )
        UPDATE holds SET origin_account = origin.origin_account
        FROM origin WHERE holds.id = origin.id
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE holds DROP COLUMN origin_account")
