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
    """Whether a listing, order, (taken) trade or secured leg with this id was recorded."""
    found = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM listings WHERE id = $1)"
        " OR EXISTS (SELECT 1 FROM orders WHERE id = $1)"
        " OR EXISTS (SELECT 1 FROM trades WHERE id = $1)"
        " OR EXISTS (SELECT 1 FROM secured_legs WHERE id = $1)",
        owner_id,
    )
    return bool(found)


# -- secured legs: block quotes', auctions' and bids' escrows and reservations (a projection) --

_LEG = "id, owner_id, member, hold_id, reservation_id, amount, state"


async def insert_leg(
    conn: Conn,
    leg_id: str,
    owner_id: str,
    member: str,
    hold_id: str | None,
    reservation_id: str | None,
    amount: int,
) -> None:
    """A live leg: `amount` t escrowed (`hold_id`) or fen reserved (`reservation_id`)."""
    await conn.execute(
        f"INSERT INTO secured_legs ({_LEG}) VALUES ($1, $2, $3, $4, $5, $6, 'live')",
        leg_id,
        owner_id,
        member,
        hold_id,
        reservation_id,
        amount,
    )


async def spare_legs(conn: Conn, leg_ids: list[str]) -> None:
    """Nothing new will use these legs: release them once no settling trade does."""
    await conn.execute(
        "UPDATE secured_legs SET state = 'spare' WHERE id = ANY($1::text[]) AND state = 'live'",
        leg_ids,
    )


async def releasable_legs(conn: Conn, limit: int) -> list[Row]:
    """Spare legs no executed (still settling) trade uses."""
    rows = await conn.fetch(
        f"SELECT {_LEG} FROM secured_legs l WHERE state = 'spare' AND NOT EXISTS"
        " (SELECT 1 FROM trades t WHERE t.status = 'executed'"
        " AND (t.seller_hold_id = l.hold_id OR t.buyer_reservation_id = l.reservation_id))"
        " LIMIT $1",
        limit,
    )
    return [dict(r) for r in rows]


async def mark_leg_released(conn: Conn, leg_id: str) -> bool:
    """False if it was released already."""
    status = await conn.execute(
        "UPDATE secured_legs SET state = 'released' WHERE id = $1 AND state = 'spare'", leg_id
    )
    return bool(status.endswith(" 1"))


async def get_leg(conn: Conn, leg_id: str) -> Row | None:
    row = await conn.fetchrow(f"SELECT {_LEG} FROM secured_legs WHERE id = $1", leg_id)
    return dict(row) if row else None
