"""Market statistics read model: instruments and trades from `tanhui.matching`.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE market_instruments (
            id               text PRIMARY KEY,
            program          text NOT NULL,
            vintage          integer NOT NULL,
            market_model     text NOT NULL,
            reference_price  bigint NOT NULL,
            source_sequence  bigint NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE market_trades (
            trade_id         text PRIMARY KEY,
            instrument_id    text NOT NULL,
            trading_day      date NOT NULL,
            price            bigint NOT NULL,
            quantity         bigint NOT NULL,
            mode             text NOT NULL,
            failed           boolean NOT NULL DEFAULT false,
            source_sequence  bigint NOT NULL
        )
        """
    )
    op.execute(
        "CREATE INDEX market_trades_by_instrument ON market_trades (instrument_id, source_sequence)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE market_trades")
    op.execute("DROP TABLE market_instruments")
