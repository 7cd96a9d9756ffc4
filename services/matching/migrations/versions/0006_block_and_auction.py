"""The block agreement and the one-way auction: quotes and their offers, auctions and bids,
the legs they secure; the instruments' block and auction terms.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"

STATEMENTS = [
    "ALTER TABLE instruments ADD COLUMN block_min_quantity bigint NOT NULL DEFAULT 100000,"
    " ADD COLUMN block_band_percent integer NOT NULL DEFAULT 30,"
    " ADD COLUMN auction_min_quantity bigint NOT NULL DEFAULT 100000,"
    " ADD COLUMN auction_cap_percent integer NOT NULL DEFAULT 10",
    # As `InstrumentListed` v1 upcasts: the default block window.
    """UPDATE instruments SET sessions = sessions || '{"block_window": ["13:00", "15:00"]}'"""
    " WHERE sessions -> 'block_window' IS NULL",
    """
    CREATE TABLE block_quotes (
        id             text PRIMARY KEY,
        instrument_id  text NOT NULL REFERENCES instruments,
        maker          text NOT NULL,
        side           text NOT NULL CHECK (side IN ('buy', 'sell')),
        counterparty   text,
        directed       boolean NOT NULL,
        status         text NOT NULL CHECK (status IN ('open', 'accepted', 'withdrawn',
                                                       'expired')),
        price          bigint NOT NULL,
        quantity       bigint NOT NULL,
        last_offer_by  text NOT NULL,
        maker_leg_id   text NOT NULL,
        counterparty_leg_id  text,
        trade_id       text,
        expires_at     timestamptz,
        posted_at      timestamptz NOT NULL
    )
    """,
    "CREATE INDEX block_quotes_open ON block_quotes (instrument_id, posted_at)"
    " WHERE status = 'open'",
    "CREATE INDEX block_quotes_expiring ON block_quotes (expires_at) WHERE status = 'open'",
    """
    CREATE TABLE block_offers (
        quote_id    text NOT NULL REFERENCES block_quotes,
        number      integer NOT NULL,
        member      text NOT NULL,
        price       bigint NOT NULL,
        quantity    bigint NOT NULL,
        offered_at  timestamptz NOT NULL,
        PRIMARY KEY (quote_id, number)
    )
    """,
    """
    CREATE TABLE auctions (
        id                text PRIMARY KEY,
        instrument_id     text NOT NULL REFERENCES instruments,
        seller            text NOT NULL,
        quantity          bigint NOT NULL,
        reserve_rule      text NOT NULL,
        reserve_price     bigint NOT NULL,
        cap_price         bigint NOT NULL,
        pricing           text NOT NULL CHECK (pricing IN ('uniform', 'pay_as_bid')),
        bidding_opens     timestamptz NOT NULL,
        bidding_closes    timestamptz NOT NULL,
        min_bid_quantity  bigint NOT NULL,
        hold_id           text NOT NULL,
        status            text NOT NULL CHECK (status IN ('bidding', 'allocated')),
        unsold            bigint,
        announced_at      timestamptz NOT NULL
    )
    """,
    "CREATE INDEX auctions_due ON auctions (bidding_closes) WHERE status = 'bidding'",
    "CREATE INDEX auctions_by_instrument ON auctions (instrument_id, announced_at)",
    """
    CREATE TABLE bids (
        id              text PRIMARY KEY,
        auction_id      text NOT NULL REFERENCES auctions,
        member          text NOT NULL,
        price           bigint NOT NULL,
        quantity        bigint NOT NULL,
        rank            bigint NOT NULL,
        status          text NOT NULL CHECK (status IN ('active', 'withdrawn', 'won', 'lost')),
        leg_id          text NOT NULL,
        reservation_id  text NOT NULL,
        allocated       bigint,
        paid_price      bigint,
        trade_id        text,
        placed_at       timestamptz NOT NULL
    )
    """,
    "CREATE INDEX bids_by_auction ON bids (auction_id, rank)",
    # A block quote's, auction's or bid's escrow or reservation of `amount` (t or fen). `spare`
    # once nothing will use it any more: released when no executed trade still does.
    """
    CREATE TABLE secured_legs (
        id              text PRIMARY KEY,
        owner_id        text NOT NULL,
        member          text NOT NULL,
        hold_id         text,
        reservation_id  text,
        amount          bigint NOT NULL,
        state           text NOT NULL CHECK (state IN ('live', 'spare', 'released'))
    )
    """,
    "CREATE INDEX secured_legs_spare ON secured_legs (id) WHERE state = 'spare'",
    "CREATE INDEX trades_settling_holds ON trades (seller_hold_id) WHERE status = 'executed'",
    "CREATE INDEX trades_settling_reservations ON trades (buyer_reservation_id)"
    " WHERE status = 'executed'",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP INDEX trades_settling_holds")
    op.execute("DROP INDEX trades_settling_reservations")
    for table in ("secured_legs", "bids", "auctions", "block_offers", "block_quotes"):
        op.execute(f"DROP TABLE {table}")
    op.execute(
        "ALTER TABLE instruments DROP COLUMN block_min_quantity, DROP COLUMN block_band_percent,"
        " DROP COLUMN auction_min_quantity, DROP COLUMN auction_cap_percent"
    )
