"""SQL of the continuous book: orders and the version token of each instrument's book."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from libs.events.store import Queryable

Conn = Queryable
Row = dict[str, Any]


_ORDER = (
    "id, instrument_id, member, side, type, price, quantity, remaining, time_in_force, status,"
    " legs_released, hold_id, reservation_id, sequence, posted_at"
)


async def lock_book(conn: Conn, instrument_id: str) -> str | None:
    """Lock the instrument's book for this transaction; its version token (None: unknown)."""
    version: str | None = await conn.fetchval(
        "SELECT book_version FROM instruments WHERE id = $1 FOR UPDATE", instrument_id
    )
    return version


async def set_book_version(conn: Conn, instrument_id: str, version: str) -> None:
    await conn.execute(
        "UPDATE instruments SET book_version = $2 WHERE id = $1", instrument_id, version
    )


async def open_orders(conn: Conn, instrument_id: str) -> list[Row]:
    """The book's orders in arrival order."""
    rows = await conn.fetch(
        f"SELECT {_ORDER} FROM orders WHERE instrument_id = $1 AND status = 'open'"
        " ORDER BY sequence",
        instrument_id,
    )
    return [dict(r) for r in rows]


async def insert_order(conn: Conn, o: Row) -> None:
    await conn.execute(
        f"INSERT INTO orders ({_ORDER}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
        " $12, $13, $14, $15)",
        *(o[c.strip()] for c in _ORDER.split(",")),
    )


async def get_order(conn: Conn, order_id: str) -> Row | None:
    row = await conn.fetchrow(f"SELECT {_ORDER} FROM orders WHERE id = $1", order_id)
    return dict(row) if row else None


async def get_orders(conn: Conn, order_ids: Sequence[str]) -> dict[str, Row]:
    rows = await conn.fetch(
        f"SELECT {_ORDER} FROM orders WHERE id = ANY($1::text[])", list(order_ids)
    )
    return {r["id"]: dict(r) for r in rows}


async def set_order(conn: Conn, order_id: str, remaining: int, status: str) -> None:
    await conn.execute(
        "UPDATE orders SET remaining = $2, status = $3 WHERE id = $1", order_id, remaining, status
    )


async def orders_to_release(conn: Conn, limit: int) -> list[Row]:
    """Closed orders whose leftover escrow or reservation is not released and whose trades
    have all settled or failed."""
    rows = await conn.fetch(
        f"SELECT {_ORDER} FROM orders o WHERE status <> 'open' AND NOT legs_released"
        " AND NOT EXISTS (SELECT 1 FROM trades t WHERE t.status = 'executed'"
        " AND (t.listing_id = o.id OR t.taker_order_id = o.id))"
        " ORDER BY sequence LIMIT $1",
        limit,
    )
    return [dict(r) for r in rows]


async def mark_order_released(conn: Conn, order_id: str) -> bool:
    status = await conn.execute(
        "UPDATE orders SET legs_released = true WHERE id = $1 AND NOT legs_released", order_id
    )
    return bool(status.endswith(" 1"))
