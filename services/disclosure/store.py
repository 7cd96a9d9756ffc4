"""All SQL of the disclosure read models."""

from __future__ import annotations

from datetime import datetime

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
