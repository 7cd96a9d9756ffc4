"""SQL of the witness: the last checkpoint checked per service, and the findings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.disclosure.store import Conn


async def last(conn: Conn, service: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT service, verifier, size, root, checkpoint, witnessed_at FROM witnessed_logs"
        " WHERE service = $1",
        service,
    )
    return dict(row) if row else None


async def record(
    conn: Conn, service: str, verifier: str, size: int, root: str, note: str, at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO witnessed_logs (service, verifier, size, root, checkpoint, witnessed_at)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (service) DO UPDATE SET"
        " size = excluded.size, root = excluded.root, checkpoint = excluded.checkpoint,"
        " witnessed_at = excluded.witnessed_at",
        service,
        verifier,
        size,
        root,
        note,
        at,
    )


async def add_finding(
    conn: Conn, service: str, problem: str, detail: str, note: str, at: datetime
) -> None:
    """A finding, once: the same problem with the same checkpoint is not found again."""
    await conn.execute(
        "INSERT INTO witness_findings (service, problem, detail, checkpoint, found_at)"
        " SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM witness_findings"
        " WHERE service = $1 AND problem = $2 AND checkpoint = $4)",
        service,
        problem,
        detail,
        note,
        at,
    )


async def logs(conn: Conn) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT service, size, root, witnessed_at FROM witnessed_logs ORDER BY service"
    )
    return [dict(r) for r in rows]


async def findings(conn: Conn, limit: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT service, problem, detail, found_at FROM witness_findings ORDER BY id DESC LIMIT $1",
        limit,
    )
    return [dict(r) for r in rows]
