"""SQL of carbon points: schemes, backings, balances, statements (projections of the log,
written in the command's transaction)."""

from __future__ import annotations

from typing import Any

from libs.events.store import Queryable

Row = dict[str, Any]
_SCHEME = "id, name, operator, backed, backing_points, minted, redeemed"


async def next_scheme_id(conn: Queryable) -> str:
    return f"PTS-{await conn.fetchval('SELECT nextval($1::regclass)', 'points_scheme_numbers'):06d}"


async def insert_scheme(
    conn: Queryable, scheme_id: str, name: str, operator: str, backed: bool
) -> None:
    await conn.execute(
        "INSERT INTO points_schemes (id, name, operator, backed) VALUES ($1, $2, $3, $4)",
        scheme_id,
        name,
        operator,
        backed,
    )


async def get_scheme(conn: Queryable, scheme_id: str, for_update: bool = False) -> Row | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_SCHEME} FROM points_schemes WHERE id = $1{lock}", scheme_id
    )
    return dict(row) if row else None


async def list_schemes(conn: Queryable) -> list[Row]:
    return [dict(r) for r in await conn.fetch(f"SELECT {_SCHEME} FROM points_schemes ORDER BY id")]


async def add_to_scheme(conn: Queryable, scheme_id: str, column: str, points: int) -> None:
    """Raise `backing_points`, `minted` or `redeemed` by `points`."""
    assert column in ("backing_points", "minted", "redeemed")
    await conn.execute(
        f"UPDATE points_schemes SET {column} = {column} + $2 WHERE id = $1", scheme_id, points
    )


async def backing_of(conn: Queryable, retirement_id: str) -> str | None:
    """The scheme a retirement backs already, if any."""
    scheme: str | None = await conn.fetchval(
        "SELECT scheme_id FROM points_backings WHERE retirement_id = $1", retirement_id
    )
    return scheme


async def insert_backing(conn: Queryable, scheme_id: str, retirement_id: str, points: int) -> None:
    await conn.execute(
        "INSERT INTO points_backings (retirement_id, scheme_id, points) VALUES ($1, $2, $3)",
        retirement_id,
        scheme_id,
        points,
    )


async def balances_for_update(
    conn: Queryable, scheme_id: str, holders: list[str]
) -> dict[str, int]:
    """The holders' balances, locked (in one order, so two transfers never deadlock)."""
    rows = await conn.fetch(
        "SELECT holder, points FROM points_balances WHERE scheme_id = $1"
        " AND holder = ANY($2::text[]) ORDER BY holder FOR UPDATE",
        scheme_id,
        sorted(holders),
    )
    return {r["holder"]: r["points"] for r in rows}


async def record_change(
    conn: Queryable,
    scheme_id: str,
    sequence: int,
    kind: str,
    reference: str,
    deltas: dict[str, int],
    total: tuple[str, int] | None,
) -> None:
    """One statement: each delta added to its holder's balance and statement, and `total`
    (`minted` or `redeemed`, points) to the scheme. A credit opens a balance or adds to it; a
    debit only changes an existing one (PostgreSQL checks `points >= 0` on the row an upsert
    proposes, so a debit cannot ride on `ON CONFLICT DO UPDATE`). No holder is both."""
    column, points = total if total is not None else ("minted", 0)
    assert column in ("minted", "redeemed")
    await conn.execute(
        "WITH d AS (SELECT * FROM unnest($3::text[], $4::bigint[]) AS d(holder, delta)),"
        f" t AS (UPDATE points_schemes SET {column} = {column} + $7 WHERE id = $2 AND $7 > 0),"
        " c AS (INSERT INTO points_balances (scheme_id, holder, points)"
        " SELECT $2, holder, delta FROM d WHERE delta > 0 ON CONFLICT (scheme_id, holder)"
        " DO UPDATE SET points = points_balances.points + EXCLUDED.points),"
        " x AS (UPDATE points_balances b SET points = b.points + d.delta FROM d"
        " WHERE d.delta < 0 AND b.scheme_id = $2 AND b.holder = d.holder)"
        " INSERT INTO points_entries (sequence, scheme_id, holder, delta, kind, reference)"
        " SELECT $1, $2, holder, delta, $5, $6 FROM d",
        sequence,
        scheme_id,
        list(deltas),
        list(deltas.values()),
        kind,
        reference,
        points,
    )


async def balance(conn: Queryable, scheme_id: str, holder: str) -> int:
    points: int | None = await conn.fetchval(
        "SELECT points FROM points_balances WHERE scheme_id = $1 AND holder = $2",
        scheme_id,
        holder,
    )
    return points or 0


async def statement(
    conn: Queryable, scheme_id: str, holder: str, after: int | None, limit: int
) -> list[Row]:
    rows = await conn.fetch(
        "SELECT sequence, delta, kind, reference FROM points_entries"
        " WHERE scheme_id = $1 AND holder = $2 AND ($3::bigint IS NULL OR sequence > $3)"
        " ORDER BY sequence LIMIT $4",
        scheme_id,
        holder,
        after,
        limit,
    )
    return [dict(r) for r in rows]
