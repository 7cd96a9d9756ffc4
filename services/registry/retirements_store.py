"""SQL of retirement records: the certificate's data, written at the flush with the
retirement's event (`movements.decide_retirement`), read by the certificate and by whoever
checks what a retirement backs (labels, points)."""

from __future__ import annotations

from typing import Any

import orjson

from libs.events.flush_sql import Table
from libs.events.store import Queryable

RETIREMENTS = Table(
    "retirements",
    (
        ("id", "text"),
        ("account", "text"),
        ("quantity", "bigint"),
        ("beneficiary", "text"),
        ("purpose", "text"),
        ("claim_period", "text"),
        ("note", "text"),
        ("blocks", "json"),
    ),
)


def retirement_row(retirement: dict[str, Any]) -> tuple[Any, ...]:
    """A retirement record as a `RETIREMENTS` row (written at the flush)."""
    return (
        retirement["id"],
        retirement["account"],
        retirement["quantity"],
        retirement["beneficiary"],
        retirement["purpose"],
        retirement["claim_period"],
        retirement["note"],
        retirement["blocks"],
    )


async def get_retirement(conn: Queryable, retirement_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT id, account, quantity, beneficiary, purpose, claim_period, note, blocks,"
        " retired_at FROM retirements WHERE id = $1",
        retirement_id,
    )
    if row is None:
        return None
    record = dict(row)
    record["blocks"] = orjson.loads(record["blocks"])
    record["retired_at"] = record["retired_at"].isoformat()
    return record
