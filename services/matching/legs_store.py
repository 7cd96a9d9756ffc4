"""SQL of the legs being secured (`pending_legs`: operational, not a projection)."""

from __future__ import annotations

from typing import Any

from libs.events.store import Queryable

Conn = Queryable
Row = dict[str, Any]


async def note_pending_leg(conn: Conn, owner_id: str, member: str, side: str) -> None:
    await conn.execute(
        "INSERT INTO pending_legs (owner_id, member, side) VALUES ($1, $2, $3)"
        " ON CONFLICT (owner_id) DO NOTHING",
        owner_id,
        member,
        side,
    )


async def forget_pending_leg(conn: Conn, owner_id: str) -> None:
    await conn.execute("DELETE FROM pending_legs WHERE owner_id = $1", owner_id)


async def abandoned_legs(conn: Conn, older_than_seconds: float, limit: int) -> list[Row]:
    """Legs noted longer ago than any request lasts, whose listing, order or trade was never
    recorded (a crash, a refusal, a client that gave up)."""
    rows = await conn.fetch(
        "SELECT owner_id, member, side FROM pending_legs"
        " WHERE created_at < now() - make_interval(secs => $1) ORDER BY created_at LIMIT $2",
        older_than_seconds,
        limit,
    )
    return [dict(r) for r in rows]


async def owner_recorded(conn: Conn, owner_id: str) -> bool:
    """Whether a listing, order or (taken) trade with this id was recorded."""
    found = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM listings WHERE id = $1)"
        " OR EXISTS (SELECT 1 FROM orders WHERE id = $1)"
        " OR EXISTS (SELECT 1 FROM trades WHERE id = $1)",
        owner_id,
    )
    return bool(found)
