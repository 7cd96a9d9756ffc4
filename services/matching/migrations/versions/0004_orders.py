"""The continuous market model: orders, the book's version, the taker order of a trade.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE orders (
            id              text PRIMARY KEY,
            instrument_id   text NOT NULL REFERENCES instruments,
            member          text NOT NULL,
            side            text NOT NULL CHECK (side IN ('buy', 'sell')),
            type            text NOT NULL CHECK (type IN ('limit', 'market')),
            price           bigint,
            quantity        bigint NOT NULL,
            remaining       bigint NOT NULL CHECK (remaining >= 0),
            time_in_force   text NOT NULL CHECK (time_in_force IN ('GTC', 'IOC', 'FOK')),
            status          text NOT NULL CHECK (status IN ('open', 'filled', 'cancelled')),
            legs_released   boolean NOT NULL DEFAULT false,
            hold_id         text,
            reservation_id  text,
            sequence        bigint NOT NULL,
            posted_at       timestamptz NOT NULL
        )
        """
    )
    # The book of an instrument: its open orders in arrival order.
    op.execute("CREATE INDEX orders_open ON orders (instrument_id, sequence) WHERE status = 'open'")
    op.execute("CREATE INDEX orders_member ON orders (member, sequence)")
    op.execute(
        "CREATE INDEX orders_to_release ON orders (sequence)"
        " WHERE status <> 'open' AND NOT legs_released"
    )
    # Changed by every order command: a cached book is current only if it carries this token.
    op.execute("ALTER TABLE instruments ADD COLUMN book_version text NOT NULL DEFAULT ''")
    op.execute("ALTER TABLE trades ADD COLUMN taker_order_id text")
    op.execute(
        "CREATE INDEX trades_by_taker_order ON trades (taker_order_id) WHERE status = 'executed'"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE trades DROP COLUMN taker_order_id")
    op.execute("ALTER TABLE instruments DROP COLUMN book_version")
    op.execute("DROP TABLE orders")
