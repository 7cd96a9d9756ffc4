"""SQL of the one-way auction: auctions and their bids (projections of the log)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from libs.events.store import Queryable

Conn = Queryable
Row = dict[str, Any]

_AUCTION = (
    "id, instrument_id, seller, quantity, reserve_rule, reserve_price, cap_price, pricing,"
    " bidding_opens, bidding_closes, min_bid_quantity, hold_id, status, unsold, announced_at"
)
_BID = (
    "id, auction_id, member, price, quantity, rank, status, leg_id, reservation_id, allocated,"
    " paid_price, trade_id, placed_at"
)


def _columns(listing: str) -> list[str]:
    return [c.strip() for c in listing.split(",")]


def _placeholders(listing: str) -> str:
    return ", ".join(f"${n + 1}" for n in range(len(_columns(listing))))


async def insert_auction(conn: Conn, a: Row) -> None:
    await conn.execute(
        f"INSERT INTO auctions ({_AUCTION}) VALUES ({_placeholders(_AUCTION)})",
        *(a[c] for c in _columns(_AUCTION)),
    )


async def get_auction(conn: Conn, auction_id: str, lock: str = "") -> Row | None:
    """`lock`: "" or "FOR SHARE" (a bid: allocation waits for it) or "FOR UPDATE"."""
    assert lock in ("", "FOR SHARE", "FOR UPDATE")
    row = await conn.fetchrow(f"SELECT {_AUCTION} FROM auctions WHERE id = $1 {lock}", auction_id)
    return dict(row) if row else None


async def list_auctions(
    conn: Conn, instrument_id: str | None, status: str | None, limit: int
) -> list[Row]:
    rows = await conn.fetch(
        f"SELECT {_AUCTION} FROM auctions WHERE ($1::text IS NULL OR instrument_id = $1)"
        " AND ($2::text IS NULL OR status = $2) ORDER BY announced_at DESC, id LIMIT $3",
        instrument_id,
        status,
        limit,
    )
    return [dict(r) for r in rows]


async def due_auctions(conn: Conn, now: datetime, limit: int) -> list[str]:
    """Auctions whose bidding has closed and which are not allocated yet."""
    rows = await conn.fetch(
        "SELECT id FROM auctions WHERE status = 'bidding' AND bidding_closes <= $1"
        " ORDER BY bidding_closes LIMIT $2",
        now,
        limit,
    )
    return [r["id"] for r in rows]


async def allocated(conn: Conn, auction_id: str, unsold: int) -> None:
    await conn.execute(
        "UPDATE auctions SET status = 'allocated', unsold = $2 WHERE id = $1", auction_id, unsold
    )


async def insert_bid(conn: Conn, b: Row) -> None:
    await conn.execute(
        f"INSERT INTO bids ({_BID}) VALUES ({_placeholders(_BID)})",
        *(b[c] for c in _columns(_BID)),
    )


async def get_bid(conn: Conn, bid_id: str, for_update: bool = False) -> Row | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT {_BID} FROM bids WHERE id = $1{lock}", bid_id)
    return dict(row) if row else None


async def bids_of(conn: Conn, auction_id: str, member: str | None = None) -> list[Row]:
    """An auction's bids (of one member, or all), in time priority."""
    rows = await conn.fetch(
        f"SELECT {_BID} FROM bids WHERE auction_id = $1 AND ($2::text IS NULL OR member = $2)"
        " ORDER BY rank",
        auction_id,
        member,
    )
    return [dict(r) for r in rows]


async def amend_bid(
    conn: Conn, bid_id: str, price: int, quantity: int, rank: int, leg_id: str, reservation: str
) -> None:
    await conn.execute(
        "UPDATE bids SET price = $2, quantity = $3, rank = $4, leg_id = $5, reservation_id = $6"
        " WHERE id = $1",
        bid_id,
        price,
        quantity,
        rank,
        leg_id,
        reservation,
    )


async def set_bid_status(conn: Conn, bid_id: str, status: str) -> None:
    await conn.execute("UPDATE bids SET status = $2 WHERE id = $1", bid_id, status)


async def bids_won(conn: Conn, won: list[tuple[str, int, int, str]]) -> None:
    """(bid, quantity, price paid, trade) for each winning bid."""
    ids, quantities, prices, trades = (list(column) for column in zip(*won, strict=True))
    await conn.execute(
        "UPDATE bids SET status = 'won', allocated = w.quantity, paid_price = w.price,"
        " trade_id = w.trade FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[])"
        " AS w(id, quantity, price, trade) WHERE bids.id = w.id",
        ids,
        quantities,
        prices,
        trades,
    )


async def bids_lost(conn: Conn, auction_id: str) -> None:
    await conn.execute(
        "UPDATE bids SET status = 'lost' WHERE auction_id = $1 AND status = 'active'", auction_id
    )
