"""Instruments, members, listings and trades (projections of the matching log).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"

TABLES = [
    """
    CREATE TABLE instruments (
        id               text PRIMARY KEY,
        program          text NOT NULL,
        vintage          integer NOT NULL,
        market_model     text NOT NULL CHECK (market_model IN ('listing', 'continuous')),
        reference_price  bigint NOT NULL,
        tick             bigint NOT NULL,
        lot              bigint NOT NULL,
        band_percent     integer NOT NULL,
        max_quantity     bigint NOT NULL,
        sessions         jsonb NOT NULL,
        halted           boolean NOT NULL DEFAULT false,
        listed_at        timestamptz NOT NULL
    )
    """,
    """
    CREATE TABLE members (
        org               text PRIMARY KEY,
        registry_account  text NOT NULL,
        cash_account      text NOT NULL,
        admitted_at       timestamptz NOT NULL
    )
    """,
    """
    CREATE TABLE listings (
        id              text PRIMARY KEY,
        instrument_id   text NOT NULL REFERENCES instruments,
        side            text NOT NULL CHECK (side IN ('buy', 'sell')),
        member          text NOT NULL,
        price           bigint NOT NULL,
        quantity        bigint NOT NULL,
        remaining       bigint NOT NULL CHECK (remaining >= 0),
        status          text NOT NULL CHECK (status IN ('open', 'filled', 'withdrawn',
                                                        'released')),
        hold_id         text,
        reservation_id  text,
        posted_at       timestamptz NOT NULL
    )
    """,
    # The counterparty view: one side's open listings by price, then posting time.
    "CREATE INDEX listings_open ON listings (instrument_id, side, price, posted_at)"
    " WHERE status = 'open'",
    "CREATE INDEX listings_member ON listings (member, posted_at)",
    """
    CREATE TABLE trades (
        id                       text PRIMARY KEY,
        instrument_id            text NOT NULL,
        mode                     text NOT NULL,
        price                    bigint NOT NULL,
        quantity                 bigint NOT NULL,
        buyer                    text NOT NULL,
        seller                   text NOT NULL,
        buyer_registry_account   text NOT NULL,
        buyer_cash_account       text NOT NULL,
        seller_registry_account  text NOT NULL,
        seller_cash_account      text NOT NULL,
        listing_id               text NOT NULL,
        taker_side               text NOT NULL,
        seller_hold_id           text NOT NULL,
        buyer_reservation_id     text NOT NULL,
        trading_day              date NOT NULL,
        status                   text NOT NULL CHECK (status IN ('executed', 'settled',
                                                                 'failed')),
        delivered_hold_id        text,
        failed_leg               text,
        failure_reason           text,
        sequence                 bigint NOT NULL,
        executed_at              timestamptz NOT NULL,
        closed_at                timestamptz
    )
    """,
    "CREATE INDEX trades_unsettled ON trades (sequence) WHERE status = 'executed'",
    "CREATE INDEX trades_by_instrument ON trades (instrument_id, sequence)",
    "CREATE INDEX trades_by_status ON trades (status, sequence)",
    "CREATE INDEX trades_by_listing ON trades (listing_id) WHERE status = 'executed'",
]


def upgrade() -> None:
    for statement in TABLES:
        op.execute(statement)


def downgrade() -> None:
    for table in ("trades", "listings", "members", "instruments"):
        op.execute(f"DROP TABLE {table}")
