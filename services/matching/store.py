"""All SQL of the matching service: instruments, members, listings, trades (projections of
its log, written in the command's transaction)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

import asyncpg
import orjson

from libs.events.store import Queryable
from libs.marketdata.bars import CLOSING_MODES

Conn = Queryable
Row = dict[str, Any]


_INSTRUMENT = (
    "id, program, vintage, market_model, reference_price, tick, lot, band_percent,"
    " max_quantity, sessions, halted, listed_at, block_min_quantity, block_band_percent,"
    " auction_min_quantity, auction_cap_percent"
)


def _instrument(row: asyncpg.Record) -> Row:
    values = dict(row)
    values["sessions"] = orjson.loads(values["sessions"])
    return values


async def insert_instrument(conn: Conn, i: Row) -> None:
    await conn.execute(
        f"INSERT INTO instruments ({_INSTRUMENT})"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        i["id"],
        i["program"],
        i["vintage"],
        i["market_model"],
        i["reference_price"],
        i["tick"],
        i["lot"],
        i["band_percent"],
        i["max_quantity"],
        orjson.dumps(i["sessions"]).decode(),
        i["halted"],
        i["listed_at"],
        i["block_min_quantity"],
        i["block_band_percent"],
        i["auction_min_quantity"],
        i["auction_cap_percent"],
    )


async def get_instrument(conn: Conn, instrument_id: str, for_update: bool = False) -> Row | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_INSTRUMENT} FROM instruments WHERE id = $1{lock}", instrument_id
    )
    return _instrument(row) if row else None


async def list_instruments(conn: Conn) -> list[Row]:
    rows = await conn.fetch(f"SELECT {_INSTRUMENT} FROM instruments ORDER BY id")
    return [_instrument(r) for r in rows]


async def set_halted(conn: Conn, instrument_id: str, halted: bool) -> None:
    await conn.execute("UPDATE instruments SET halted = $2 WHERE id = $1", instrument_id, halted)


_MEMBER = "org, registry_account, cash_account, admitted_at"


async def insert_member(conn: Conn, m: Row) -> bool:
    """False if the organisation is a member already."""
    status = await conn.execute(
        f"INSERT INTO members ({_MEMBER}) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        m["org"],
        m["registry_account"],
        m["cash_account"],
        m["admitted_at"],
    )
    return bool(status.endswith(" 1"))


async def get_member(conn: Conn, org: str) -> Row | None:
    row = await conn.fetchrow(f"SELECT {_MEMBER} FROM members WHERE org = $1", org)
    return dict(row) if row else None


async def members_by_org(conn: Conn, orgs: list[str]) -> dict[str, Row]:
    rows = await conn.fetch(f"SELECT {_MEMBER} FROM members WHERE org = ANY($1::text[])", orgs)
    return {r["org"]: dict(r) for r in rows}


async def list_members(conn: Conn) -> list[Row]:
    return [dict(r) for r in await conn.fetch(f"SELECT {_MEMBER} FROM members ORDER BY org")]


_LISTING = (
    "id, instrument_id, side, member, price, quantity, remaining, status, hold_id,"
    " reservation_id, posted_at"
)


async def insert_listing(conn: Conn, x: Row) -> None:
    await conn.execute(
        f"INSERT INTO listings ({_LISTING}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        x["id"],
        x["instrument_id"],
        x["side"],
        x["member"],
        x["price"],
        x["quantity"],
        x["remaining"],
        x["status"],
        x["hold_id"],
        x["reservation_id"],
        x["posted_at"],
    )


async def get_listing(conn: Conn, listing_id: str, for_update: bool = False) -> Row | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT {_LISTING} FROM listings WHERE id = $1{lock}", listing_id)
    return dict(row) if row else None


async def best_prices(conn: Conn, instrument_id: str, side: str, levels: int) -> list[int]:
    """The side's best `levels` distinct prices among open listings, best first."""
    order = "DESC" if side == "buy" else "ASC"
    rows = await conn.fetch(
        "SELECT DISTINCT price FROM listings WHERE instrument_id = $1 AND side = $2"
        f" AND status = 'open' ORDER BY price {order} LIMIT $3",
        instrument_id,
        side,
        levels,
    )
    return [r["price"] for r in rows]


async def open_listings_at(
    conn: Conn, instrument_id: str, side: str, prices: Sequence[int]
) -> list[Row]:
    rows = await conn.fetch(
        f"SELECT {_LISTING} FROM listings WHERE instrument_id = $1 AND side = $2"
        " AND status = 'open' AND price = ANY($3::bigint[]) ORDER BY price, posted_at, id",
        instrument_id,
        side,
        list(prices),
    )
    return [dict(r) for r in rows]


async def member_listings(conn: Conn, member: str, limit: int) -> list[Row]:
    rows = await conn.fetch(
        f"SELECT {_LISTING} FROM listings WHERE member = $1 ORDER BY posted_at DESC LIMIT $2",
        member,
        limit,
    )
    return [dict(r) for r in rows]


async def set_listing(conn: Conn, listing_id: str, remaining: int, status: str) -> None:
    await conn.execute(
        "UPDATE listings SET remaining = $2, status = $3 WHERE id = $1",
        listing_id,
        remaining,
        status,
    )


async def has_settling_trades(conn: Conn, listing_id: str) -> bool:
    found = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM trades WHERE listing_id = $1 AND status = 'executed')",
        listing_id,
    )
    return bool(found)


async def withdrawn_listings(conn: Conn, limit: int) -> list[Row]:
    """Withdrawn listings whose escrow or reservation is not released yet."""
    rows = await conn.fetch(
        f"SELECT {_LISTING} FROM listings WHERE status = 'withdrawn' ORDER BY posted_at LIMIT $1",
        limit,
    )
    return [dict(r) for r in rows]


_TRADE = (
    "id, instrument_id, mode, price, quantity, buyer, seller, buyer_registry_account,"
    " buyer_cash_account, seller_registry_account, seller_cash_account, listing_id, taker_side,"
    " seller_hold_id, buyer_reservation_id, trading_day, status, delivered_hold_id, failed_leg,"
    " failure_reason, sequence, executed_at, closed_at, taker_order_id"
)


async def insert_trade(conn: Conn, t: Row) -> None:
    await conn.execute(
        f"INSERT INTO trades ({_TRADE}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
        " $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)",
        *(t[c.strip()] for c in _TRADE.split(",")),
    )


async def get_trade(conn: Conn, trade_id: str, for_update: bool = False) -> Row | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT {_TRADE} FROM trades WHERE id = $1{lock}", trade_id)
    return dict(row) if row else None


async def list_trades(
    conn: Conn, status: str | None, member: str | None, after: int | None, limit: int
) -> list[Row]:
    rows = await conn.fetch(
        f"SELECT {_TRADE} FROM trades WHERE ($1::text IS NULL OR status = $1)"
        " AND ($2::text IS NULL OR buyer = $2 OR seller = $2)"
        " AND ($3::bigint IS NULL OR sequence > $3) ORDER BY sequence LIMIT $4",
        status,
        member,
        after,
        limit,
    )
    return [dict(r) for r in rows]


# -- settlement batches (delivery versus payment, `dvp.py`) ------------------------------------


async def unbatched_trades(conn: Conn, limit: int) -> list[str]:
    """Executed trades in no settlement batch yet, oldest first."""
    rows = await conn.fetch(
        "SELECT id FROM trades WHERE status = 'executed' AND batch_id IS NULL"
        " ORDER BY sequence LIMIT $1",
        limit,
    )
    return [r["id"] for r in rows]


async def open_batch(conn: Conn, batch_id: str, trade_ids: list[str]) -> None:
    await conn.execute(
        "UPDATE trades SET batch_id = $1 WHERE id = ANY($2::text[])", batch_id, trade_ids
    )


async def settling_batches(conn: Conn, limit: int) -> list[list[Row]]:
    """Up to `limit` batches with a trade still executed, each with all its trades (closed ones
    too: a batch's requests are built from all of them), in sequence order."""
    rows = await conn.fetch(
        f"SELECT {_TRADE}, batch_id FROM trades WHERE batch_id IN (SELECT DISTINCT batch_id"
        " FROM trades WHERE status = 'executed' AND batch_id IS NOT NULL LIMIT $1)"
        " ORDER BY batch_id, sequence",
        limit,
    )
    batches: dict[str, list[Row]] = {}
    for row in rows:
        batches.setdefault(row["batch_id"], []).append(dict(row))
    return list(batches.values())


async def executed_among(conn: Conn, trade_ids: list[str]) -> set[str]:
    """Which of the trades are still executed, locked until the transaction ends."""
    rows = await conn.fetch(
        "SELECT id FROM trades WHERE id = ANY($1::text[]) AND status = 'executed' FOR UPDATE",
        trade_ids,
    )
    return {r["id"] for r in rows}


class Closing(NamedTuple):
    trade_id: str
    status: str  # settled | failed
    delivered_hold_id: str | None
    failed_leg: str | None
    failure_reason: str | None


async def close_trades(conn: Conn, closings: Sequence[Closing], closed_at: datetime) -> None:
    if not closings:
        return
    await conn.execute(
        "UPDATE trades SET status = c.status, closed_at = $6, delivered_hold_id = c.delivered,"
        " failed_leg = c.leg, failure_reason = c.reason"
        " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])"
        " AS c(id, status, delivered, leg, reason) WHERE trades.id = c.id",
        *(list(column) for column in zip(*closings, strict=True)),
        closed_at,
    )


async def previous_close(conn: Conn, instrument_id: str, before: date) -> tuple[int, int] | None:
    """(turnover, volume) of the listing trades of the last trading day before `before` that
    had any (failed trades never happened)."""
    row = await conn.fetchrow(
        "SELECT sum(price * quantity) AS turnover, sum(quantity) AS volume FROM trades"
        " WHERE instrument_id = $1 AND mode = ANY($3::text[]) AND status <> 'failed'"
        " AND trading_day = (SELECT max(trading_day) FROM trades WHERE instrument_id = $1"
        " AND mode = ANY($3::text[]) AND status <> 'failed' AND trading_day < $2)",
        instrument_id,
        before,
        list(CLOSING_MODES),
    )
    if row is None or row["volume"] is None:
        return None
    return int(row["turnover"]), int(row["volume"])


async def public_trades(conn: Conn, instrument_id: str, after: int | None, limit: int) -> list[Row]:
    """The instrument's trades that stand (not failed), in log order."""
    rows = await conn.fetch(
        "SELECT sequence, id, price, quantity, mode, trading_day, executed_at FROM trades"
        " WHERE instrument_id = $1 AND status <> 'failed' AND ($2::bigint IS NULL OR sequence > $2)"
        " ORDER BY sequence LIMIT $3",
        instrument_id,
        after,
        limit,
    )
    return [dict(r) for r in rows]


async def last_trade(conn: Conn, instrument_id: str) -> Row | None:
    row = await conn.fetchrow(
        "SELECT price, quantity, executed_at FROM trades WHERE instrument_id = $1"
        " AND status <> 'failed' ORDER BY sequence DESC LIMIT 1",
        instrument_id,
    )
    return dict(row) if row else None


async def depth(
    conn: Conn, instrument_id: str, side: str, levels: int, table: str = "listings"
) -> list[Row]:
    """Open listings (or orders: `table`) aggregated by price: the side's best `levels`."""
    assert table in ("listings", "orders")
    order = "DESC" if side == "buy" else "ASC"
    rows = await conn.fetch(
        f"SELECT price, sum(remaining) AS quantity, count(*) AS listings FROM {table}"
        " WHERE instrument_id = $1 AND side = $2 AND status = 'open'"
        f" GROUP BY price ORDER BY price {order} LIMIT $3",
        instrument_id,
        side,
        levels,
    )
    return [dict(r) for r in rows]


async def log(conn: asyncpg.Connection) -> AsyncIterator[asyncpg.Record]:
    """The whole log in order (inside a transaction: a cursor)."""
    async for row in conn.cursor("SELECT sequence, type, data FROM events ORDER BY sequence"):
        yield row


async def table_rows(conn: Conn, table: str, columns: str) -> list[asyncpg.Record]:
    """A projection table's compared columns (`replay.COLUMNS`)."""
    return list(await conn.fetch(f"SELECT {columns} FROM {table}"))
