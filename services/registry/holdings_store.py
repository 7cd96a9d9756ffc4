"""SQL for holdings (the `blocks` table), transfers and retirements."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class MovePlan:
    """Everything a move needs, read and locked in one round trip."""

    number: int  # a fresh operation number
    accounts: dict[str, dict[str, Any]]
    candidates: list[Holding]  # the source's available blocks matching the criteria
    neighbours: list[Holding]  # blocks just before / after each candidate (merge partners)


async def prepare_move(
    conn: Queryable,
    account_ids: list[str],
    source: str,
    program: str | None = None,
    vintage: int | None = None,
    project: str | None = None,
    batch_id: str | None = None,
) -> MovePlan:
    cols = ", ".join(f"k.{c.strip()}" for c in _COLUMNS.split(","))
    rows = await conn.fetch(
        "WITH n AS (SELECT nextval('operation_numbers') AS number),"
        f" cand AS (SELECT {cols} FROM blocks k JOIN batches b USING (batch_id)"
        "   WHERE k.account_id = $2 AND k.state = 'available'"
        "   AND ($3::text IS NULL OR b.program = $3) AND ($4::int IS NULL OR k.vintage = $4)"
        "   AND ($5::text IS NULL OR b.project = $5) AND ($6::text IS NULL OR k.batch_id = $6)"
        "   FOR UPDATE OF k),"
        f" before AS (SELECT {cols} FROM blocks k JOIN cand c"
        "   ON k.batch_id = c.batch_id AND k.end_unit = c.start_unit - 1 FOR UPDATE OF k),"
        f" after AS (SELECT {cols} FROM blocks k JOIN cand c"
        "   ON k.batch_id = c.batch_id AND k.start_unit = c.end_unit + 1 FOR UPDATE OF k)"
        " SELECT 'n' AS kind, (SELECT number FROM n) AS number,"
        "   (SELECT json_agg(json_build_object('id', a.id, 'owner', a.owner, 'name', a.name,"
        "     'kind', a.kind, 'program', a.program, 'status', a.status))"
        "    FROM accounts a WHERE a.id = ANY($1::text[]))::text AS accounts,"
        "   NULL::text AS batch_id, NULL::bigint AS start_unit, NULL::bigint AS end_unit,"
        "   NULL::text AS account_id, NULL::text AS state, NULL::int AS vintage,"
        "   NULL::text AS hold_id, NULL::date AS acquired_on"
        " UNION ALL SELECT 'c', NULL, NULL, * FROM cand"
        " UNION ALL SELECT 'b', NULL, NULL, * FROM before"
        " UNION ALL SELECT 'a', NULL, NULL, * FROM after",
        account_ids,
        source,
        program,
        vintage,
        project,
        batch_id,
    )
    head = rows[0]
    accounts = {a["id"]: a for a in orjson.loads(head["accounts"] or "[]")}
    candidates = [_holding(r) for r in rows if r["kind"] == "c"]
    neighbours = list(dict.fromkeys(_holding(r) for r in rows if r["kind"] in ("b", "a")))
    return MovePlan(int(head["number"]), accounts, candidates, neighbours)


async def apply_planned(
    conn: Queryable, splits: Sequence[Split], neighbours: Sequence[Holding], merge: Any
) -> list[Holding]:
    """`apply_splits` for a move whose merge partners were read by `prepare_move`: one statement."""
    removed = {(s.removed.batch_id, s.removed.start) for s in splits}
    remainders = [r for s in splits for r in s.remainders]
    moved = [s.moved for s in splits]
    ends_before = {(h.batch_id, h.start - 1) for h in moved}  # a partner ending just before
    starts_after = {(h.batch_id, h.end + 1) for h in moved}  # or starting just after
    around = [
        n
        for n in neighbours
        if (n.batch_id, n.start) not in removed
        and n not in remainders
        and ((n.batch_id, n.end) in ends_before or (n.batch_id, n.start) in starts_after)
    ]
    merged = merge([*moved, *around, *remainders])
    kept = {(h.batch_id, h.start) for h in merged}
    stale_keys = (removed | {(n.batch_id, n.start) for n in around}) - kept
    await _replace_keys(conn, sorted(stale_keys), merged)
    return moved


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
    cols = ", ".join(f"k.{c.strip()}" for c in _COLUMNS.split(","))
    rows = await conn.fetch(
        "WITH gone AS (DELETE FROM blocks WHERE (batch_id, start_unit) IN"
        " (SELECT * FROM unnest($1::text[], $2::bigint[])) RETURNING 1),"
        " m AS (SELECT * FROM unnest($3::text[], $4::bigint[], $5::bigint[]) AS m(b, s, e))"
        # Two index lookups (PK and blocks_batch_end) rather than one OR-join over the batch.
        f" SELECT {cols} FROM m JOIN blocks k ON k.batch_id = m.b AND k.end_unit = m.s - 1"
        f" UNION ALL SELECT {cols} FROM m JOIN blocks k ON k.batch_id = m.b AND k.start_unit = m.e + 1",
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
    removed_stale = sorted(removed - {(h.batch_id, h.start) for h in merged})
    await _replace_keys(conn, removed_stale + [(h.batch_id, h.start) for h in stale], merged)
    return moved


async def _replace_keys(
    conn: Queryable, stale: Sequence[tuple[str, int]], fresh: Sequence[Holding]
) -> None:
    """Delete the `stale` keys and upsert `fresh` (disjoint keys) in one statement."""
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
        [key[0] for key in stale],
        [key[1] for key in stale],
        *[list(c) for c in columns],
    )


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
