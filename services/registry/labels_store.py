"""SQL of carbon labels (a projection of `LabelIssued` / `LabelRevoked`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from libs.events.store import Queryable

_LABEL = (
    "code, retirement_id, owner, product, product_batch, functional_unit, units_covered,"
    " footprint_kg_per_unit, offset_kg_per_unit, claimed_kg, valid_from, valid_to, status,"
    " revoked_reason"
)


async def lock_retirement(conn: Queryable, retirement_id: str) -> dict[str, Any] | None:
    """The retirement (its owner account's organisation), locked: labels backed by it queue."""
    row = await conn.fetchrow(
        "SELECT r.id, r.quantity, r.purpose, a.owner FROM retirements r"
        " JOIN accounts a ON a.id = r.account WHERE r.id = $1 FOR UPDATE OF r",
        retirement_id,
    )
    return dict(row) if row else None


async def claimed_kg(conn: Queryable, retirement_id: str) -> Decimal:
    """What the retirement's labels claim already (revoked ones included)."""
    total = await conn.fetchval(
        "SELECT coalesce(sum(claimed_kg), 0) FROM labels WHERE retirement_id = $1", retirement_id
    )
    return Decimal(total)


async def insert_label(conn: Queryable, label: dict[str, Any]) -> None:
    columns = [c.strip() for c in _LABEL.split(",")]
    await conn.execute(
        f"INSERT INTO labels ({_LABEL}) VALUES ({', '.join(f'${n + 1}' for n in range(len(columns)))})",
        *(label[c] for c in columns),
    )


async def get_label(conn: Queryable, code: str, for_update: bool = False) -> dict[str, Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT {_LABEL} FROM labels WHERE code = $1{lock}", code)
    return dict(row) if row else None


async def revoke(conn: Queryable, code: str, reason: str) -> None:
    await conn.execute(
        "UPDATE labels SET status = 'revoked', revoked_reason = $2 WHERE code = $1", code, reason
    )
