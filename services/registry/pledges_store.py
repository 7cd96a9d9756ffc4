"""SQL of pledges over projects' future issuances (a projection of the `ProjectPledge*` events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from libs.events.store import Queryable

_PLEDGE = (
    "id, project, account, lender, lender_account, share_percent, quantity, pledged,"
    " registration_ref, loan_amount, expires_at, status"
)


async def next_id(conn: Queryable) -> str:
    number = await conn.fetchval("SELECT nextval('project_pledge_numbers')")
    return f"PPL-{number:06d}"


async def insert(conn: Queryable, p: dict[str, Any]) -> None:
    columns = [c.strip() for c in _PLEDGE.split(",")]
    await conn.execute(
        f"INSERT INTO project_pledges ({_PLEDGE})"
        f" VALUES ({', '.join(f'${n + 1}' for n in range(len(columns)))})",
        *(p[c] for c in columns),
    )


async def get(conn: Queryable, pledge_id: str, for_update: bool = False) -> dict[str, Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_PLEDGE} FROM project_pledges WHERE id = $1{lock}", pledge_id
    )
    return dict(row) if row else None


async def binding(
    conn: Queryable, project: str, account: str, now: datetime
) -> list[dict[str, Any]]:
    """Pledges an issuance of `project` into `account` must honour now (active or enforced,
    not expired, cap not reached), locked, oldest first."""
    rows = await conn.fetch(
        f"SELECT {_PLEDGE} FROM project_pledges WHERE project = $1 AND account = $2"
        " AND status IN ('active', 'enforced') AND expires_at > $3"
        " AND (quantity IS NULL OR pledged < quantity) ORDER BY id FOR UPDATE",
        project,
        account,
        now,
    )
    return [dict(r) for r in rows]


async def add_pledged(conn: Queryable, pledge_id: str, units: int) -> None:
    await conn.execute(
        "UPDATE project_pledges SET pledged = pledged + $2 WHERE id = $1", pledge_id, units
    )


async def set_status(conn: Queryable, pledge_id: str, status: str) -> None:
    await conn.execute("UPDATE project_pledges SET status = $2 WHERE id = $1", pledge_id, status)


async def active_holds(conn: Queryable, pledge_id: str) -> list[str]:
    """The pledge holds placed for it and still active."""
    rows = await conn.fetch(
        "SELECT id FROM holds WHERE reference = $1 AND purpose = 'pledge' AND status = 'active'"
        " ORDER BY id",
        pledge_id,
    )
    return [r["id"] for r in rows]
