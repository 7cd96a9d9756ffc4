"""Read-side SQL: serial provenance and batch supply."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

from libs.events.store import Queryable
from services.registry.hashed import same_id
from services.registry.provenance import HELD_STATES


async def blocks_containing(
    conn: Queryable, batch_id: str, start: int, end: int
) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT k.batch_id, k.start_unit, k.end_unit, k.account_id, k.state, k.hold_id, k.vintage,"
        " a.owner FROM blocks k LEFT JOIN accounts a ON a.id = k.account_id"
        f" WHERE {same_id('k.batch_id', '$1')} AND k.start_unit <= $3 AND k.end_unit >= $2"
        " ORDER BY k.start_unit",
        batch_id,
        start,
        end,
    )


async def events_touching(
    conn: Queryable, batch_id: str, start: int, end: int
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT DISTINCT e.sequence, e.type, e.stream, e.time, e.actor, e.hash"
        " FROM movements m JOIN events e ON e.sequence = m.sequence"
        f" WHERE {same_id('m.batch_id', '$1')} AND m.start_unit <= $3 AND m.end_unit >= $2"
        " ORDER BY e.sequence",
        batch_id,
        start,
        end,
    )
    return [
        {
            "sequence": r["sequence"],
            "type": r["type"],
            "subject": r["stream"],
            "time": r["time"].isoformat(),
            "actor": r["actor"],
            "hash": r["hash"],
        }
        for r in rows
    ]


async def transfer_event(conn: Queryable, transfer_id: str) -> dict[str, Any] | None:
    """The data of the transfer's event: the log is the transfer record."""
    data = await conn.fetchval(
        "SELECT data::text FROM events WHERE stream = $1 AND stream_version = 1",
        f"transfer/{transfer_id}",
    )
    return None if data is None else dict(orjson.loads(data))


async def batch(conn: Queryable, batch_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT batch_id, program, scope, project, vintage, start_unit, end_unit FROM batches"
        " WHERE batch_id = $1",
        batch_id,
    )


async def supply_by_state(conn: Queryable, batch_id: str) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT state, sum(end_unit - start_unit + 1)::bigint AS units FROM blocks"
        f" WHERE {same_id('batch_id', '$1')} GROUP BY state",
        batch_id,
    )
    return {r["state"]: int(r["units"]) for r in rows}


# An account's movements as changes of its holdings (available + held, docs/rest.md): one row per
# movement out of (negative) or into (positive) it; a change of state between the two (a hold)
# counts 0 but is on the statement. Each half reads its own index of `movements`.
_HELD = ", ".join(f"'{state}'" for state in HELD_STATES)
_ENTRIES = (
    f"SELECT sequence, CASE WHEN from_state IN ({_HELD}) THEN start_unit - end_unit - 1 ELSE 0 END"
    f"   AS change FROM movements WHERE {same_id('from_account', '$1')}"
    f" UNION ALL SELECT sequence, CASE WHEN to_state IN ({_HELD}) THEN end_unit - start_unit + 1"
    f"   ELSE 0 END FROM movements WHERE {same_id('to_account', '$1')}"
)


async def statement(conn: Queryable, account: str, after: int, limit: int) -> list[dict[str, Any]]:
    """Entries after `after` (a sequence), oldest first, with the running balance."""
    rows = await conn.fetch(
        f"WITH entries AS ({_ENTRIES}),"
        " opening AS (SELECT coalesce(sum(change), 0) AS balance FROM entries WHERE sequence <= $2),"
        " page AS (SELECT sequence, sum(change)::bigint AS change FROM entries"
        "   WHERE sequence > $2 GROUP BY sequence ORDER BY sequence LIMIT $3)"
        " SELECT p.sequence, p.change, e.type, e.stream, e.time, e.data,"
        "   (SELECT balance FROM opening) + sum(p.change) OVER (ORDER BY p.sequence) AS balance"
        " FROM page p JOIN events e ON e.sequence = p.sequence ORDER BY p.sequence",
        account,
        after,
        limit,
    )
    return [
        {
            "sequence": r["sequence"],
            "time": r["time"].isoformat(),
            "event": r["type"].split(".")[2],
            "subject": r["stream"],
            "change": r["change"],
            "balance": int(r["balance"]),
            "blocks": [
                f"{m['batch_id']}-{m['start']:09d}-{m['end']:09d}"
                for m in orjson.loads(r["data"]).get("movements", [])
                if account
                in ((m.get("from") or {}).get("account"), (m.get("to") or {}).get("account"))
            ],
        }
        for r in rows
    ]
