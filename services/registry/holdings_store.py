"""SQL for holdings (the `blocks` table), holds and retirements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson

from libs.events.flush_sql import Table
from libs.events.store import Queryable
from libs.events.unit_of_work import Deferrals
from libs.named_sql import bind
from services.registry.domain.book import Order
from services.registry.domain.ledger import Holding
from services.registry.hashed import hashed, same_id

# Written at flush (`EventTransaction.defer_rows`): a block row replaces the one at its key.
BLOCKS = Table(
    "blocks",
    (
        ("batch_id", "text"),
        ("start_unit", "bigint"),
        ("end_unit", "bigint"),
        ("account_id", "text"),
        ("state", "text"),
        ("vintage", "int"),
        ("hold_id", "text"),
        ("acquired_on", "date"),
    ),
    # A block is keyed by its last unit (migration 0013): a split source gives away its lowest
    # units, so what is left of it keeps its row and key (`Book.changes`).
    key=("batch_id", "end_unit"),
    key_index=(hashed("batch_id"), "end_unit", "batch_id"),  # `blocks_key`
)
_COLUMNS = ", ".join(BLOCKS.column_names)
HOLDS = Table(
    "holds",
    (
        ("id", "text"),
        ("account", "text"),
        ("purpose", "text"),
        ("holder", "text"),
        ("status", "text"),
        ("quantity", "bigint"),
        ("expires_at", "timestamptz"),
        ("origin_account", "text"),
        ("reference", "text"),
        ("pledge", "text"),
    ),
    key=("id",),
)


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


# The blocks just before / after each row of a CTE `c` (merge partners). Both through the
# unique key `blocks_key` (batch, last unit): the block before ends at the unit before; a
# batch's blocks cover it without gaps, so the block after is the one with the least last
# unit above (no index on `start_unit` to keep up at every write).
#
# No block is read FOR UPDATE — neither these partners nor the blocks the commands take from.
# The log serializes every change to `blocks`: a transaction commits only on the head it read
# everything at (the optimistic one on the head its process last committed, checked by the
# sequence's primary key; the pessimistic one under the log lock it takes before its first
# statement), so no change to a block it read can commit between its read and its write. A
# row lock would only write to the row's page and the WAL: ~7,000 lock records per bulk
# request of 10,000 transfers (pg_walinspect), in the request's serial first read.
def _columns_of(alias: str) -> str:
    """The block columns, qualified by a table alias."""
    return ", ".join(f"{alias}.{name}" for name in BLOCKS.column_names)


_K_COLUMNS = _columns_of("k")
# Of each block of `c`, whether the block just before / after it has to be looked up: not when
# it is in `c` too (the next row of the same batch in unit order, adjacent) — about half of
# them when a bulk request reads most accounts (3,213 of 5,776 blocks each way, measured).
_NEIGHBOURS = (
    " o AS (SELECT batch_id, start_unit, end_unit,"
    "   lag(end_unit) OVER w IS DISTINCT FROM start_unit - 1 AS seek_before,"
    "   lead(start_unit) OVER w IS DISTINCT FROM end_unit + 1 AS seek_after"
    "   FROM c WINDOW w AS (PARTITION BY batch_id ORDER BY start_unit)),"
    f" before AS (SELECT {_K_COLUMNS}"
    f" FROM blocks k JOIN o ON {same_id('k.batch_id', 'o.batch_id')}"
    "   AND k.end_unit = o.start_unit - 1 WHERE o.seek_before"
    " ORDER BY k.batch_id, k.end_unit),"
    f" after AS (SELECT {_K_COLUMNS} FROM o"
    f" CROSS JOIN LATERAL (SELECT {_K_COLUMNS} FROM blocks k"
    f"   WHERE {same_id('k.batch_id', 'o.batch_id')} AND k.end_unit > o.end_unit"
    "   ORDER BY k.end_unit LIMIT 1) k"
    " WHERE o.seek_after AND k.start_unit = o.end_unit + 1)"
)
_OWN_COLUMNS = f"{_COLUMNS}, program, project"


@dataclass(frozen=True)
class Read:
    """Blocks read for the book: `own` rows carry their batch's program and
    project (criteria); `around` are the blocks next to them."""

    own: list[tuple[Holding, str, str]]
    around: list[Holding]
    accounts: dict[str, dict[str, Any]]
    numbers: list[int]
    read_up_to: dict[str, Order] = field(default_factory=dict)  # accounts read in part


async def read_accounts(
    conn: Queryable,
    account_ids: Sequence[str],
    holders: Sequence[str],
    numbers: int,
    wanted: Mapping[str, int],
) -> Read:
    """In one round trip: the rows of `account_ids`; the held blocks and the available blocks
    of `holders` (a subset) with their neighbours; and `numbers` fresh operation
    numbers. Of a holder in `wanted` only the first available blocks in selection order that
    hold that many units are read (`Read.read_up_to` says how far)."""
    taken = list(wanted)
    sql, args = bind(
        _READ_ACCOUNTS,
        accounts=list(account_ids),
        holders=list(holders),
        numbers=numbers,
        partly=taken,
        partly_wanted=[wanted[a] for a in taken],
        partly_limit=[min(wanted[a], FIRST_BLOCKS_LIMIT) for a in taken],
        whole=[a for a in holders if a not in wanted],
    )
    rows = await conn.fetch(sql, *args)
    head = rows[0]
    accounts = {a["id"]: a for a in orjson.loads(head["accounts"] or "[]")}
    own = [r for r in rows if r["kind"] == "c"]
    return Read(
        own=[(_holding(r), r["program"], r["project"]) for r in own],
        around=[_holding(r) for r in rows if r["kind"] in ("b", "a")],
        accounts=accounts,
        numbers=list(head["numbers"] or []),
        read_up_to=_read_up_to(own),
    )


# Of an account read whole: its held and available blocks. Of an account in `wanted`: its held
# blocks, and its first available blocks in selection order (at most FIRST_BLOCKS_LIMIT,
# through `blocks_selection`), of which those up to and including the one that completes the
# units wanted are returned; `more` says that blocks may follow unread. One that was not read
# is read when a selection needs it (`AccountPartlyRead`); scanning and sorting all of a
# fragmented account's blocks made the first read of a bulk request grow with every request.
FIRST_BLOCKS_LIMIT = 64
# Both parts probe `blocks_selection` once per account: a filter `account_id = ANY($2)` over
# the table ran as a sequential scan comparing every row with every account (the array is a
# parameter, so not hashed) — 200–300 ms on a ledger fragmented by a day of trading.
# Parameters: :holders (held blocks read), :whole (available blocks read whole), :partly,
# :partly_wanted, :partly_limit (accounts read in part: units wanted, blocks at most).
_WHOLE = (
    "whole AS (SELECT * FROM ("
    "   SELECT k.* FROM unnest(:holders::text[]) AS h(account) CROSS JOIN LATERAL ("
    "     SELECT * FROM blocks k WHERE k.account_id = h.account AND k.state = 'held') k"
    "   UNION ALL SELECT k.* FROM unnest(:whole::text[]) AS h(account) CROSS JOIN LATERAL ("
    "     SELECT * FROM blocks k WHERE k.account_id = h.account AND k.state = 'available'"
    "     ) k) u ORDER BY batch_id, start_unit)"
)
_FIRSTS = (
    "firsts AS (SELECT k.*, w.wanted, w.fetch_limit"
    "   FROM unnest(:partly::text[], :partly_wanted::bigint[], :partly_limit::int[])"
    "     AS w(account, wanted, fetch_limit)"
    "   CROSS JOIN LATERAL (SELECT * FROM blocks k"
    "     WHERE k.account_id = w.account AND k.state = 'available'"
    "     ORDER BY k.vintage, k.batch_id, k.end_unit LIMIT w.fetch_limit) k)"
)
_PREFIX = (
    "running AS (SELECT f.*,"
    "   sum(end_unit - start_unit + 1) OVER (PARTITION BY account_id"
    "     ORDER BY vintage, batch_id, end_unit) - (end_unit - start_unit + 1) AS units_before,"
    "   count(*) OVER (PARTITION BY account_id) AS fetched FROM firsts f),"
    " prefix AS (SELECT r.*, (fetched >= fetch_limit"
    "   OR max(units_before) OVER (PARTITION BY account_id) >= wanted) AS more FROM running r)"
)


# One round trip for the batch's first read: `numbers` operation numbers, the rows of
# :accounts, and the blocks above (`c`) with their neighbours (`before`, `after`), each row
# tagged with its kind.
_READ_ACCOUNTS = (
    f"WITH {_WHOLE}, {_FIRSTS}, {_PREFIX},"
    f" c AS (SELECT {_COLUMNS}, NULL::boolean AS more FROM whole"
    f"   UNION ALL SELECT {_COLUMNS}, more FROM prefix WHERE units_before < wanted),"
    f"{_NEIGHBOURS}"
    " SELECT 'n' AS kind, (SELECT array_agg(nextval('operation_numbers'))"
    "   FROM generate_series(1, :numbers)) AS numbers,"
    "   (SELECT json_agg(json_build_object('id', a.id, 'owner', a.owner, 'name', a.name,"
    "     'kind', a.kind, 'program', a.program, 'status', a.status))"
    "    FROM unnest(:accounts::text[]) AS i(id) JOIN accounts a USING (id))::text AS accounts,"
    "   NULL::text AS batch_id, NULL::bigint AS start_unit, NULL::bigint AS end_unit,"
    "   NULL::text AS account_id, NULL::text AS state, NULL::int AS vintage,"
    "   NULL::text AS hold_id, NULL::date AS acquired_on, NULL::text AS program,"
    "   NULL::text AS project, NULL::boolean AS more"
    f" UNION ALL SELECT 'c', NULL, NULL, {_columns_of('c')}, b.program, b.project, c.more"
    "   FROM c JOIN batches b USING (batch_id)"
    " UNION ALL SELECT 'b', NULL, NULL, *, NULL, NULL, NULL FROM before"
    " UNION ALL SELECT 'a', NULL, NULL, *, NULL, NULL, NULL FROM after"
)


def _read_up_to(own: list[asyncpg.Record]) -> dict[str, Order]:
    """For each account read in part, how far it was read: `(vintage, batch, last unit)` of
    its last available block read (a remainder of that block, after a split, is still read;
    an unread block starts after it)."""
    read: dict[str, list[asyncpg.Record]] = {}
    for r in own:
        if r["more"]:
            read.setdefault(r["account_id"], []).append(r)
    return {
        account: max((r["vintage"], r["batch_id"], r["end_unit"]) for r in blocks)
        for account, blocks in read.items()
    }


async def read_holds(
    conn: Queryable, hold_ids: Sequence[str]
) -> tuple[dict[str, dict[str, Any]], Read]:
    """The holds' rows (locked; unknown ids are missing) and their held blocks with
    their neighbours: two round trips for any number of holds."""
    rows = await conn.fetch(
        "SELECT id, account, purpose, holder, status, quantity, expires_at, origin_account,"
        " reference, pledge"
        " FROM holds"
        " WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE",
        list(hold_ids),
    )
    blocks = await conn.fetch(
        "WITH c AS (SELECT k.*, b.program, b.project FROM blocks k JOIN batches b USING"
        " (batch_id) WHERE k.hold_id = ANY($1::text[]) AND k.state = 'held'"
        " ORDER BY k.batch_id, k.start_unit),"
        f"{_NEIGHBOURS}"
        f" SELECT 'c' AS kind, {_OWN_COLUMNS} FROM c"
        " UNION ALL SELECT 'b', *, NULL, NULL FROM before"
        " UNION ALL SELECT 'a', *, NULL, NULL FROM after",
        list(hold_ids),
    )
    read = Read(
        own=[(_holding(r), r["program"], r["project"]) for r in blocks if r["kind"] == "c"],
        around=[_holding(r) for r in blocks if r["kind"] != "c"],
        accounts={},
        numbers=[],
    )
    return {r["id"]: dict(r) for r in rows}, read


async def read_positions(
    conn: Queryable, ending_at: Sequence[tuple[str, int]], starting_at: Sequence[tuple[str, int]]
) -> list[Holding]:
    """The blocks ending at / starting at the given `(batch, unit)` positions."""
    sql, args = bind(
        _READ_POSITIONS,
        ending_batches=[p[0] for p in ending_at],
        ending_units=[p[1] for p in ending_at],
        starting_batches=[p[0] for p in starting_at],
        starting_units=[p[1] for p in starting_at],
    )
    return [_holding(r) for r in await conn.fetch(sql, *args)]


_READ_POSITIONS = (
    f"WITH e AS (SELECT {_K_COLUMNS}"
    "   FROM unnest(:ending_batches::text[], :ending_units::bigint[]) AS p(b, u)"
    f"   JOIN blocks k ON {same_id('k.batch_id', 'p.b')} AND k.end_unit = p.u),"
    f" s AS (SELECT {_K_COLUMNS}"
    "   FROM unnest(:starting_batches::text[], :starting_units::bigint[]) AS p(b, u)"
    f"   CROSS JOIN LATERAL (SELECT {_K_COLUMNS} FROM blocks k"
    f"     WHERE {same_id('k.batch_id', 'p.b')} AND k.end_unit >= p.u"
    "     ORDER BY k.end_unit LIMIT 1) k WHERE k.start_unit = p.u)"
    " SELECT * FROM e UNION ALL SELECT * FROM s"
)


async def holdings_of(conn: Queryable, account: str) -> list[Holding]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM blocks WHERE account_id = $1 AND state IN ('available', 'held')"
        " ORDER BY vintage, batch_id, start_unit",
        account,
    )
    return [_holding(r) for r in rows]


def replace_blocks(
    tx: Deferrals, stale: Sequence[tuple[str, int]], fresh: Sequence[Holding]
) -> None:
    """Delete the `stale` keys (batch, last unit) and upsert `fresh` (disjoint keys) with the
    flush's statement: a whole book's changes at once."""
    if stale:
        tx.defer_statement(
            BLOCKS.delete_keys_sql, [[key[0] for key in stale], [key[1] for key in stale]]
        )
    tx.defer_rows(
        BLOCKS,
        [
            (h.batch_id, h.start, h.end, h.account, h.state, h.vintage, h.hold_id, h.acquired_on)
            for h in fresh
        ],
    )


def write_holds(tx: Deferrals, holds: Sequence[dict[str, Any]]) -> None:
    """Holds placed or changed by a transaction, each as it now stands: written with the
    flush's statement (a new hold inserted, a changed one replaced)."""
    tx.defer_rows(
        HOLDS,
        [
            (
                h["id"],
                h["account"],
                h["purpose"],
                h["holder"],
                h["status"],
                h["quantity"],
                h["expires_at"],
                h.get("origin_account"),
                h.get("reference"),
                h.get("pledge"),
            )
            for h in holds
        ],
    )


# Active holds past their expiry (through the partial index `holds_expiry`).
_EXPIRED = "FROM holds WHERE status = 'active' AND expires_at <= now()"


async def any_expired_hold(conn: Queryable) -> bool:
    return bool(await conn.fetchval(f"SELECT EXISTS (SELECT 1 {_EXPIRED})"))


async def expired_holds(conn: Queryable, limit: int = 100) -> list[str]:
    rows = await conn.fetch(
        f"SELECT id {_EXPIRED} ORDER BY expires_at LIMIT $1",
        limit,
    )
    return [r["id"] for r in rows]


async def holds_by_reference(
    conn: Queryable, holder: str | None, reference: str
) -> list[dict[str, Any]]:
    """The holds a holder placed under `reference` (any holder's, when `holder` is None)."""
    rows = await conn.fetch(
        "SELECT id, account, purpose, holder, status, quantity, reference FROM holds"
        " WHERE reference = $2 AND ($1::text IS NULL OR holder = $1) ORDER BY id",
        holder,
        reference,
    )
    return [dict(r) for r in rows]


async def hold_purposes(conn: Queryable, hold_ids: Sequence[str]) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT id, purpose FROM holds WHERE id = ANY($1::text[])", list(set(hold_ids))
    )
    return {r["id"]: r["purpose"] for r in rows}
