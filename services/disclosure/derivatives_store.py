"""SQL of the derivatives' public read models: carbon points schemes' totals (holders' balances
are private) and carbon labels (from the registry's topic)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.disclosure.store import Conn, as_columns

# -- carbon points: each scheme's backing and totals (holders' balances are private) --------

_POINTS = "id, name, operator, backed, backing_points, minted, redeemed"


async def insert_points_schemes(conn: Conn, schemes: Sequence[tuple[str, str, str, bool]]) -> None:
    await conn.execute(
        "INSERT INTO public_points_schemes (id, name, operator, backed)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[])"
        " ON CONFLICT (id) DO NOTHING",
        *as_columns(schemes, 4),
    )


async def add_points(conn: Conn, changes: dict[str, list[int]]) -> None:
    """Per scheme: [backing, minted, redeemed] points to add."""
    await conn.execute(
        "UPDATE public_points_schemes p SET backing_points = p.backing_points + c.b,"
        " minted = p.minted + c.m, redeemed = p.redeemed + c.r"
        " FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[]) AS c(id, b, m, r)"
        " WHERE p.id = c.id",
        *as_columns([(scheme, *counts) for scheme, counts in changes.items()], 4),
    )


async def points_schemes(conn: Conn, offset: int, limit: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        f"SELECT {_POINTS} FROM public_points_schemes ORDER BY id OFFSET $1 LIMIT $2",
        offset,
        limit,
    )
    return [dict(r) for r in rows]


# -- carbon labels --------------------------------------------------------------------------

_LABEL = (
    "code, retirement_id, owner, product, product_batch, functional_unit, units_covered,"
    " footprint_kg_per_unit, offset_kg_per_unit, claimed_kg, valid_from, valid_to"
)


async def insert_labels(conn: Conn, labels: Sequence[dict[str, Any]]) -> None:
    await conn.execute(
        f"INSERT INTO public_labels ({_LABEL}) SELECT * FROM unnest($1::text[], $2::text[],"
        " $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[],"
        " $10::text[], $11::date[], $12::date[]) ON CONFLICT (code) DO NOTHING",
        *as_columns([tuple(label[c.strip()] for c in _LABEL.split(",")) for label in labels], 12),
    )


async def revoke_labels(conn: Conn, revocations: Sequence[tuple[str, str]]) -> None:
    """(code, reason): a revoked label stays public, marked."""
    await conn.execute(
        "UPDATE public_labels l SET revoked_reason = r.reason"
        " FROM unnest($1::text[], $2::text[]) AS r(code, reason) WHERE l.code = r.code",
        *as_columns(revocations, 2),
    )


async def label(conn: Conn, code: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        f"SELECT {_LABEL}, revoked_reason FROM public_labels WHERE code = $1", code
    )
    return dict(row) if row else None
