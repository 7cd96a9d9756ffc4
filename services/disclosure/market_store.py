"""SQL of the market statistics: instruments and the trades that stand (from matching's
topic)."""

from __future__ import annotations

from typing import Any

from services.disclosure.store import Conn


async def upsert_instrument(conn: Conn, instrument: dict[str, Any], source_sequence: int) -> None:
    await conn.execute(
        "INSERT INTO market_instruments (id, program, vintage, market_model, reference_price,"
        " source_sequence) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
        instrument["id"],
        instrument["program"],
        instrument["vintage"],
        instrument["market_model"],
        instrument["reference_price"],
        source_sequence,
    )


async def insert_trade(conn: Conn, trade: dict[str, Any], source_sequence: int) -> None:
    await conn.execute(
        "INSERT INTO market_trades (trade_id, instrument_id, trading_day, price, quantity, mode,"
        " buyer, seller, buyer_registry_account, seller_registry_account, source_sequence)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        " ON CONFLICT (trade_id) DO NOTHING",
        trade["trade_id"],
        trade["instrument_id"],
        trade["trading_day"],
        trade["price"],
        trade["quantity"],
        trade["mode"],
        trade["buyer"],
        trade["seller"],
        trade["buyer_registry_account"],
        trade["seller_registry_account"],
        source_sequence,
    )


async def mark_trade_failed(conn: Conn, trade_id: str) -> None:
    await conn.execute("UPDATE market_trades SET failed = true WHERE trade_id = $1", trade_id)


async def list_instruments(conn: Conn, offset: int, limit: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT id, program, vintage, market_model, reference_price FROM market_instruments"
        " ORDER BY id OFFSET $1 LIMIT $2",
        offset,
        limit,
    )
    return [dict(r) for r in rows]


async def reference_prices(conn: Conn) -> dict[str, int]:
    """Every instrument's reference price (fen), by id."""
    rows = await conn.fetch("SELECT id, reference_price FROM market_instruments")
    return {r["id"]: r["reference_price"] for r in rows}


async def get_instrument(conn: Conn, instrument_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT id, program, vintage, market_model, reference_price FROM market_instruments"
        " WHERE id = $1",
        instrument_id,
    )
    return dict(row) if row else None


async def standing_trades(conn: Conn, instrument_id: str) -> list[dict[str, Any]]:
    """The instrument's trades that stand (not failed), in the matching log's order."""
    rows = await conn.fetch(
        "SELECT trading_day, price, quantity, mode FROM market_trades"
        " WHERE instrument_id = $1 AND NOT failed ORDER BY source_sequence",
        instrument_id,
    )
    return [dict(r) for r in rows]
