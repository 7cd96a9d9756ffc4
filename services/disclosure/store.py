"""All SQL of the disclosure read models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import orjson

from libs.events.store import Queryable
from services.disclosure.schemas import PublicIssuance

Conn = Queryable

_COLUMNS = (
    "batch_id, program, scope, project, vintage, quantity, buffer_quantity, start_unit,"
    " end_unit, issued_at, source_sequence, blocks"
)


async def upsert_issuance(
    conn: Conn, issuance: PublicIssuance, issued_at: datetime, source_sequence: int
) -> None:
    await conn.execute(
        f"INSERT INTO public_issuances ({_COLUMNS})"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        " ON CONFLICT (batch_id) DO NOTHING",
        issuance.batch_id,
        issuance.program,
        issuance.scope,
        issuance.project,
        issuance.vintage,
        issuance.quantity,
        issuance.buffer_quantity,
        issuance.start,
        issuance.end,
        issued_at,
        source_sequence,
        orjson.dumps([b.model_dump() for b in issuance.blocks]).decode(),
    )


async def list_issuances(
    conn: Conn, after: int | None, limit: int
) -> list[tuple[int, PublicIssuance]]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM public_issuances"
        " WHERE $1::bigint IS NULL OR source_sequence < $1"
        " ORDER BY source_sequence DESC LIMIT $2",
        after,
        limit,
    )
    return [(row["source_sequence"], _issuance(row)) for row in rows]


async def get_issuance(conn: Conn, batch_id: str) -> PublicIssuance | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM public_issuances WHERE batch_id = $1", batch_id
    )
    return _issuance(row) if row else None


def _issuance(row: asyncpg.Record) -> PublicIssuance:
    return PublicIssuance(
        batch_id=row["batch_id"],
        program=row["program"],
        scope=row["scope"],
        project=row["project"],
        vintage=row["vintage"],
        quantity=row["quantity"],
        buffer_quantity=row["buffer_quantity"],
        start=row["start_unit"],
        end=row["end_unit"],
        issued_at=row["issued_at"].isoformat(),
        blocks=orjson.loads(row["blocks"]),
    )


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
        " source_sequence) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (trade_id) DO NOTHING",
        trade["trade_id"],
        trade["instrument_id"],
        trade["trading_day"],
        trade["price"],
        trade["quantity"],
        trade["mode"],
        source_sequence,
    )


async def mark_trade_failed(conn: Conn, trade_id: str) -> None:
    await conn.execute("UPDATE market_trades SET failed = true WHERE trade_id = $1", trade_id)


async def list_instruments(conn: Conn) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT id, program, vintage, market_model, reference_price FROM market_instruments"
        " ORDER BY id"
    )
    return [dict(r) for r in rows]


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
