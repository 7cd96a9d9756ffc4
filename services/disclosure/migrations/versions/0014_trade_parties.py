"""Both parties of each trade, for supervision: the members and their registry accounts (the
accounts' owners are in `public_accounts`). Trades consumed before this migration have none
until `tanhui disclosure rebuild` replays them.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"

COLUMNS = ("buyer", "seller", "buyer_registry_account", "seller_registry_account")


def upgrade() -> None:
    op.execute("ALTER TABLE market_trades " + ", ".join(f"ADD COLUMN {c} text" for c in COLUMNS))


def downgrade() -> None:
    op.execute("ALTER TABLE market_trades " + ", ".join(f"DROP COLUMN {c}" for c in COLUMNS))
