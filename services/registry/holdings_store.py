"""SQL for holdings (the `blocks` table), transfers and retirements."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg
import orjson

from libs.events.store import EventTransaction, Queryable
from services.registry.domain.ledger import Holding, Split

_COLUMNS = "batch_id, start_unit, end_unit, account_id, state, vintage, hold_id, acquired_on"


def _holding(row: asyncpg.Record) -> Holding:
    return Holding(
        row["batch_id"],
        row["start_unit"],
        row["end_unit"],
        row["account_id"],
        row["state"],
        row["vintage"],
        row["hold_id"],
        row["acquired_on"],
    )


async def available_for_update(
    conn: Queryable,
    account: str,
    program: str | None = None,
    vintage: int | None = None,
    project: str | None = None,
    batch_id: str | None = None,
) -> list[Holding]:
    """The account's available holdings matching the criteria, locked against other replicas."""
    rows = await conn.fetch(
        f"SELECT {', '.join('k.' + c.strip() for c in _COLUMNS.split(','))}"
        " FROM blocks k JOIN batches b USING (batch_id)"
        " WHERE k.account_id = $1 AND k.state = 'available'"
        " AND ($2::text IS NULL OR b.program = $2) AND ($3::int IS NULL OR k.vintage = $3)"
        " AND ($4::text IS NULL OR b.project = $4) AND ($5::text IS NULL OR k.batch_id = $5)"
        " ORDER BY k.vintage, k.batch_id, k.start_unit FOR UPDATE OF k",
        account,
        program,
        vintage,
        project,
        batch_id,
    )
    return [_holding(r) for r in rows]


async def holdings_of(conn: Queryable, account: str) -> list[Holding]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM blocks WHERE account_id = $1 AND state IN ('available', 'held')"
        " ORDER BY vintage, batch_id, start_unit",
        account,
    )
    return [_holding(r) for r in rows]


async def insert_holdings(conn: Queryable, holdings: Iterable[Holding]) -> None:
    rows = [
        (h.batch_id, h.start, h.end, h.account, h.state, h.vintage, h.hold_id, h.acquired_on)
        for h in holdings
    ]
    if rows:
        await conn.execute(
            f"INSERT INTO blocks ({_COLUMNS}) SELECT * FROM unnest($1::text[], $2::bigint[],"
            " $3::bigint[], $4::text[], $5::text[], $6::int[], $7::text[], $8::date[])",
            *[list(c) for c in zip(*rows, strict=True)],
        )


async def apply_splits(conn: Queryable, splits: Sequence[Split], merge: Any) -> list[Holding]:
    """Replace the split sources by remainders and moved parts, merging the moved parts with
    their neighbours; returns the moved holdings. Two statements whatever the size."""
    removed = {(s.removed.batch_id, s.removed.start) for s in splits}
    remainders = [r for s in splits for r in s.remainders]
    moved = [s.moved for s in splits]
    # The neighbours are read in the same statement as the DELETE, from the snapshot before it:
    # a source block being deleted can show up, and is left out here.
    rows = await conn.fetch(
        f"WITH gone AS (DELETE FROM blocks WHERE (batch_id, start_unit) IN"
        f" (SELECT * FROM unnest($1::text[], $2::bigint[])) RETURNING 1)"
        f" SELECT {_COLUMNS} FROM blocks k JOIN unnest($3::text[], $4::bigint[], $5::bigint[])"
        f" AS m(batch_id, s, e) USING (batch_id) WHERE k.end_unit = m.s - 1 OR k.start_unit = m.e + 1",
        [key[0] for key in removed],
        [key[1] for key in removed],
        [h.batch_id for h in moved],
        [h.start for h in moved],
        [h.end for h in moved],
    )
    around = [
        n
        for n in dict.fromkeys(_holding(r) for r in rows)
        if (n.batch_id, n.start) not in removed and n not in remainders
    ]
    merged = merge([*moved, *around, *remainders])
    kept = {(h.batch_id, h.start) for h in merged}
    stale = [h for h in around if (h.batch_id, h.start) not in kept]
    await _replace(conn, stale, merged)
    return moved


async def _replace(conn: Queryable, stale: Sequence[Holding], fresh: Sequence[Holding]) -> None:
    """Delete `stale` and upsert `fresh` (disjoint keys) in one statement."""
    columns = (
        list(
            zip(
                *[
                    (
                        h.batch_id,
                        h.start,
                        h.end,
                        h.account,
                        h.state,
                        h.vintage,
                        h.hold_id,
                        h.acquired_on,
                    )
                    for h in fresh
                ],
                strict=True,
            )
        )
        or [()] * 8
    )
    await conn.execute(
        "WITH gone AS (DELETE FROM blocks WHERE (batch_id, start_unit) IN"
        " (SELECT * FROM unnest($1::text[], $2::bigint[])))"
        f" INSERT INTO blocks ({_COLUMNS}) SELECT * FROM unnest($3::text[], $4::bigint[],"
        " $5::bigint[], $6::text[], $7::text[], $8::int[], $9::text[], $10::date[])"
        " ON CONFLICT (batch_id, start_unit) DO UPDATE SET end_unit = excluded.end_unit,"
        " account_id = excluded.account_id, state = excluded.state, vintage = excluded.vintage,"
        " hold_id = excluded.hold_id, acquired_on = excluded.acquired_on",
        [h.batch_id for h in stale],
        [h.start for h in stale],
        *[list(c) for c in columns],
    )


async def next_operation_id(conn: Queryable, prefix: str) -> str:
    number = await conn.fetchval("SELECT nextval('operation_numbers')")
    return f"{prefix}-{number:08d}"


def insert_transfer(
    tx: EventTransaction,
    transfer_id: str,
    source: str,
    target: str,
    quantity: int,
    blocks: list[dict[str, Any]],
) -> None:
    """Deferred to the batch's flush: nothing in a batch reads transfer records back."""
    tx.defer_rows(
        "INSERT INTO transfers (id, from_account, to_account, quantity, blocks) SELECT * FROM"
        " unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::json[])",
        [(transfer_id, source, target, quantity, orjson.dumps(blocks).decode())],
    )


def insert_retirement(tx: EventTransaction, retirement: dict[str, Any]) -> None:
    """Deferred to the batch's flush, like transfer records."""
    tx.defer_rows(
        "INSERT INTO retirements (id, account, quantity, beneficiary, purpose, claim_period, note,"
        " blocks) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[],"
        " $5::text[], $6::text[], $7::text[], $8::json[])",
        [
            (
                retirement["id"],
                retirement["account"],
                retirement["quantity"],
                retirement["beneficiary"],
                retirement["purpose"],
                retirement["claim_period"],
                retirement["note"],
                orjson.dumps(retirement["blocks"]).decode(),
            )
        ],
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


async def held_by_hold_for_update(conn: Queryable, hold_id: str) -> list[Holding]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM blocks WHERE hold_id = $1 AND state = 'held'"
        " ORDER BY vintage, batch_id, start_unit FOR UPDATE",
        hold_id,
    )
    return [_holding(r) for r in rows]


async def insert_hold(conn: Queryable, hold: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO holds (id, account, purpose, holder, status, quantity, expires_at)"
        " VALUES ($1, $2, $3, $4, 'active', $5, $6)",
        hold["id"],
        hold["account"],
        hold["purpose"],
        hold["holder"],
        hold["quantity"],
        hold["expires_at"],
    )


async def get_hold_for_update(conn: Queryable, hold_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT id, account, purpose, holder, status, quantity, expires_at, placed_at"
        " FROM holds WHERE id = $1 FOR UPDATE",
        hold_id,
    )
    return dict(row) if row else None


async def set_hold_status(conn: Queryable, hold_id: str, status: str) -> None:
    await conn.execute("UPDATE holds SET status = $2 WHERE id = $1", hold_id, status)


async def expired_holds(conn: Queryable, limit: int = 100) -> list[str]:
    rows = await conn.fetch(
        "SELECT id FROM holds WHERE status = 'active' AND expires_at <= now()"
        " ORDER BY expires_at LIMIT $1",
        limit,
    )
    return [r["id"] for r in rows]
