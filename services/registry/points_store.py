"""SQL of carbon points: schemes, backings, balances, statements (projections of the log,
written in the command's transaction: read by `read_state`, written by the unit of work's flush
through the tables below)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from libs.events.flush_sql import Table
from libs.events.store import Queryable
from services.registry.domain.points import Change, Scheme

Row = dict[str, Any]

# Written at flush (`points_work.PointsWork`): schemes and balances as they now stand, new
# backings, statement entries. The same definitions name the columns `rebuild` writes.
SCHEMES = Table(
    "points_schemes",
    (
        ("id", "text"), ("name", "text"), ("operator", "text"), ("backed", "boolean"),
        ("backing_points", "bigint"), ("minted", "bigint"), ("redeemed", "bigint"),
    ),
    key=("id",),
)  # fmt: skip
_SCHEME = ", ".join(SCHEMES.column_names)
BACKINGS = Table(
    "points_backings", (("retirement_id", "text"), ("scheme_id", "text"), ("points", "bigint"))
)
BALANCES = Table(
    "points_balances",
    (("scheme_id", "text"), ("holder", "text"), ("points", "bigint")),
    key=("scheme_id", "holder"),
)
ENTRIES = Table(
    "points_entries",
    (
        ("sequence", "bigint"), ("scheme_id", "text"), ("holder", "text"), ("delta", "bigint"),
        ("kind", "text"), ("reference", "text"),
    ),
)  # fmt: skip


def scheme_row(scheme: Scheme) -> tuple[object, ...]:
    """A scheme in `points_store.SCHEMES`'s column order."""
    return (
        scheme.id, scheme.name, scheme.operator, scheme.backed,
        scheme.backing_points, scheme.minted, scheme.redeemed,
    )  # fmt: skip


def entry_rows(sequence: int, change: Change) -> Iterable[tuple[object, ...]]:
    """A change's `points_store.ENTRIES` rows: one per holder whose balance it changes."""
    for holder, delta in change.deltas.items():
        yield (sequence, change.scheme_id, holder, delta, change.kind, change.reference)


# One round trip for everything a batch of points commands reads: the schemes, the holders'
# balances (absent: 0) and which scheme each retirement backs already (absent: none).
_READ_STATE = f"""
SELECT
  (SELECT coalesce(json_agg(s), '[]') FROM (SELECT {_SCHEME} FROM points_schemes
     WHERE id = ANY($1::text[])) s) AS schemes,
  (SELECT coalesce(json_agg(b), '[]') FROM (SELECT scheme_id, holder, points
     FROM points_balances JOIN unnest($2::text[], $3::text[]) AS k(scheme_id, holder)
     USING (scheme_id, holder)) b) AS balances,
  (SELECT coalesce(json_agg(u), '[]') FROM (SELECT retirement_id, scheme_id
     FROM points_backings WHERE retirement_id = ANY($4::text[])) u) AS backings
"""


async def read_state(
    conn: Queryable,
    schemes: Sequence[str],
    balances: Sequence[tuple[str, str]],
    retirements: Sequence[str],
) -> tuple[list[Row], list[Row], list[Row]]:
    """(scheme rows, balance rows, backing rows) of what is asked that exists."""
    row = await conn.fetchrow(
        _READ_STATE,
        list(schemes),
        [scheme for scheme, _ in balances],
        [holder for _, holder in balances],
        list(retirements),
    )
    assert row is not None
    return (
        orjson.loads(row["schemes"]),
        orjson.loads(row["balances"]),
        orjson.loads(row["backings"]),
    )


async def next_scheme_id(conn: Queryable) -> str:
    return f"PTS-{await conn.fetchval('SELECT nextval($1::regclass)', 'points_scheme_numbers'):06d}"


async def get_scheme(conn: Queryable, scheme_id: str) -> Scheme | None:
    row = await conn.fetchrow(f"SELECT {_SCHEME} FROM points_schemes WHERE id = $1", scheme_id)
    return Scheme(**dict(row)) if row else None


async def list_schemes(conn: Queryable) -> list[Scheme]:
    rows = await conn.fetch(f"SELECT {_SCHEME} FROM points_schemes ORDER BY id")
    return [Scheme(**dict(r)) for r in rows]


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
