"""SQL of the supply read models: issuances, accounts, retirements, cancellations, the buffer pool,
per-batch totals, movements (serial provenance) and what the consumers have applied."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg
import orjson

from libs.events.store import Queryable
from services.disclosure.schemas import PublicIssuance

Conn = Queryable

_COLUMNS = (
    "batch_id, program, scope, project, vintage, quantity, buffer_quantity, start_unit,"
    " end_unit, issued_at, source_sequence, blocks"
)


def as_columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as one list per column (for `unnest`: one statement writes them all)."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width


async def insert_issuances(conn: Conn, rows: Sequence[tuple[Any, ...]]) -> None:
    """(issuance, issued at, source sequence) rows, in one statement."""
    await conn.execute(
        f"INSERT INTO public_issuances ({_COLUMNS}) SELECT * FROM unnest($1::text[],"
        " $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::bigint[],"
        " $8::bigint[], $9::bigint[], $10::timestamptz[], $11::bigint[], $12::json[])"
        " ON CONFLICT (batch_id) DO NOTHING",
        *as_columns(
            [
                (
                    i.batch_id, i.program, i.scope, i.project, i.vintage, i.quantity,
                    i.buffer_quantity, i.start, i.end, issued_at, sequence,
                    orjson.dumps([b.model_dump() for b in i.blocks]).decode(),
                )
                for i, issued_at, sequence in rows
            ],
            12,
        ),
    )  # fmt: skip


@dataclass(frozen=True)
class IssuanceFilter:
    """What a reader narrows the issued batches to; dates are the exchange's calendar days
    (Asia/Shanghai), both ends included. The county is the project code's first two letters."""

    county: str | None = None
    project: str | None = None
    vintage: int | None = None
    issued_from: date | None = None
    issued_to: date | None = None


async def list_issuances(
    conn: Conn, after: int | None, limit: int, only: IssuanceFilter = IssuanceFilter()
) -> list[tuple[int, PublicIssuance]]:
    """Newest first."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM public_issuances"
        " WHERE ($1::bigint IS NULL OR source_sequence < $1)"
        " AND ($3::text IS NULL OR left(project, 2) = $3)"
        " AND ($4::text IS NULL OR project = $4)"
        " AND ($5::int IS NULL OR vintage = $5)"
        " AND ($6::date IS NULL OR (issued_at AT TIME ZONE 'Asia/Shanghai')::date >= $6)"
        " AND ($7::date IS NULL OR (issued_at AT TIME ZONE 'Asia/Shanghai')::date <= $7)"
        " ORDER BY source_sequence DESC LIMIT $2",
        after,
        limit,
        only.county,
        only.project,
        only.vintage,
        only.issued_from,
        only.issued_to,
    )
    return [(row["source_sequence"], _issuance(row)) for row in rows]


async def get_issuance(conn: Conn, batch_id: str) -> PublicIssuance | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM public_issuances WHERE batch_id = $1", batch_id
    )
    return _issuance(row) if row else None


def _issuance(row: asyncpg.Record) -> PublicIssuance:
    return PublicIssuance(
        batch_id=row["batch_id"],
        program=row["program"],
        scope=row["scope"],
        project=row["project"],
        vintage=row["vintage"],
        quantity=row["quantity"],
        buffer_quantity=row["buffer_quantity"],
        start=row["start_unit"],
        end=row["end_unit"],
        issued_at=row["issued_at"].isoformat(),
        blocks=orjson.loads(row["blocks"]),
    )


async def insert_accounts(conn: Conn, accounts: Sequence[dict[str, Any]]) -> None:
    await conn.execute(
        "INSERT INTO public_accounts (id, owner, name, kind, program)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])"
        " ON CONFLICT (id) DO NOTHING",
        *as_columns(
            [(a["id"], a["owner"], a["name"], a["kind"], a["program"]) for a in accounts], 5
        ),
    )


async def insert_cancellations(conn: Conn, rows: Sequence[tuple[dict[str, Any], int]]) -> None:
    """(cancellation, source sequence) rows, in one statement."""
    await conn.execute(
        "INSERT INTO public_cancellations (id, account, quantity, reason, note, blocks,"
        " cancelled_at, source_sequence) SELECT * FROM unnest($1::text[], $2::text[],"
        " $3::bigint[], $4::text[], $5::text[], $6::json[], $7::timestamptz[], $8::bigint[])"
        " ON CONFLICT (id) DO NOTHING",
        *as_columns(
            [
                (
                    c["id"], c["account"], c["quantity"], c["reason"], c["note"],
                    orjson.dumps(c["blocks"]).decode(), c["cancelled_at"], sequence,
                )
                for c, sequence in rows
            ],
            8,
        ),
    )  # fmt: skip


@dataclass(frozen=True)
class CancellationFilter:
    """Days are the exchange's calendar days (Asia/Shanghai), both ends included."""

    reason: str | None = None
    cancelled_from: date | None = None
    cancelled_to: date | None = None


async def list_cancellations(
    conn: Conn, after: int | None, limit: int, only: CancellationFilter = CancellationFilter()
) -> list[dict[str, Any]]:
    """Newest first, the account shown as its owner organisation."""
    rows = await conn.fetch(
        "SELECT c.id, c.account, coalesce(a.owner, c.account) AS owner, c.quantity, c.reason,"
        " c.note, c.blocks, c.cancelled_at, c.source_sequence"
        " FROM public_cancellations c LEFT JOIN public_accounts a ON a.id = c.account"
        " WHERE ($1::bigint IS NULL OR c.source_sequence < $1)"
        " AND ($3::text IS NULL OR c.reason = $3)"
        " AND ($4::date IS NULL OR (c.cancelled_at AT TIME ZONE 'Asia/Shanghai')::date >= $4)"
        " AND ($5::date IS NULL OR (c.cancelled_at AT TIME ZONE 'Asia/Shanghai')::date <= $5)"
        " ORDER BY c.source_sequence DESC LIMIT $2",
        after,
        limit,
        only.reason,
        only.cancelled_from,
        only.cancelled_to,
    )
    return [dict(r) | {"blocks": orjson.loads(r["blocks"])} for r in rows]


async def buffer_pool(conn: Conn) -> list[dict[str, Any]]:
    """Per program: units issued into its buffer, units cancelled from buffer accounts (a
    reversal draws on the pool), and what remains."""
    rows = await conn.fetch(
        "WITH contributed AS (SELECT program, sum(buffer_quantity) AS units"
        " FROM public_issuances GROUP BY program),"
        " drawn AS (SELECT a.program, sum(c.quantity) AS units FROM public_cancellations c"
        " JOIN public_accounts a ON a.id = c.account WHERE a.kind = 'buffer' GROUP BY a.program)"
        " SELECT coalesce(c.program, d.program) AS program, coalesce(c.units, 0) AS contributed,"
        " coalesce(d.units, 0) AS cancelled FROM contributed c"
        " FULL JOIN drawn d ON d.program = c.program ORDER BY 1"
    )
    return [
        {
            "program": r["program"],
            "contributed": int(r["contributed"]),
            "cancelled": int(r["cancelled"]),
            "remaining": int(r["contributed"]) - int(r["cancelled"]),
        }
        for r in rows
        if r["program"] is not None
    ]


async def insert_retirements(conn: Conn, rows: Sequence[tuple[dict[str, Any], int]]) -> None:
    """(retirement, source sequence) rows, in one statement."""
    await conn.execute(
        "INSERT INTO public_retirements (id, account, quantity, beneficiary, purpose,"
        " claim_period, blocks, retired_at, source_sequence) SELECT * FROM unnest($1::text[],"
        " $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::json[],"
        " $8::timestamptz[], $9::bigint[]) ON CONFLICT (id) DO NOTHING",
        *as_columns(
            [
                (
                    r["id"], r["account"], r["quantity"], r["beneficiary"], r["purpose"],
                    r["claim_period"], orjson.dumps(r["blocks"]).decode(), r["retired_at"],
                    sequence,
                )
                for r, sequence in rows
            ],
            9,
        ),
    )  # fmt: skip


# The owner is joined when read: events of different streams may arrive in any order (the
# topic keeps order per stream only), so the account may be known after its retirement.
_RETIREMENT = (
    "r.id, r.account, coalesce(a.owner, r.account) AS owner, r.quantity, r.beneficiary,"
    " r.purpose, r.claim_period, r.blocks, r.retired_at, r.source_sequence"
    " FROM public_retirements r LEFT JOIN public_accounts a ON a.id = r.account"
)


def _retirement(row: asyncpg.Record) -> dict[str, Any]:
    values = dict(row)
    values["blocks"] = orjson.loads(values["blocks"])
    return values


@dataclass(frozen=True)
class RetirementFilter:
    """`beneficiary` matches any part of the name, case-insensitively; days are the exchange's
    calendar days (Asia/Shanghai), both ends included."""

    beneficiary: str | None = None
    purpose: str | None = None
    retired_from: date | None = None
    retired_to: date | None = None


async def list_retirements(
    conn: Conn, after: int | None, limit: int, only: RetirementFilter = RetirementFilter()
) -> list[dict[str, Any]]:
    """Newest first."""
    rows = await conn.fetch(
        f"SELECT {_RETIREMENT}"
        " WHERE ($1::bigint IS NULL OR r.source_sequence < $1)"
        " AND ($3::text IS NULL OR r.beneficiary ILIKE '%' || $3 || '%')"
        " AND ($4::text IS NULL OR r.purpose = $4)"
        " AND ($5::date IS NULL OR (r.retired_at AT TIME ZONE 'Asia/Shanghai')::date >= $5)"
        " AND ($6::date IS NULL OR (r.retired_at AT TIME ZONE 'Asia/Shanghai')::date <= $6)"
        " ORDER BY r.source_sequence DESC LIMIT $2",
        after,
        limit,
        only.beneficiary,
        only.purpose,
        only.retired_from,
        only.retired_to,
    )
    return [_retirement(r) for r in rows]


async def get_retirement(conn: Conn, retirement_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"SELECT {_RETIREMENT} WHERE r.id = $1", retirement_id)
    return _retirement(row) if row else None


async def add_to_batch_totals(conn: Conn, column: str, by_batch: dict[str, int]) -> None:
    """Add units per batch to `issued`, `retired` or `cancelled`."""
    assert column in ("issued", "retired", "cancelled")
    await conn.execute(
        f"INSERT INTO batch_totals (batch_id, {column})"
        " SELECT * FROM unnest($1::text[], $2::bigint[])"
        f" ON CONFLICT (batch_id) DO UPDATE SET {column} = batch_totals.{column} + EXCLUDED.{column}",
        list(by_batch),
        list(by_batch.values()),
    )


# Grouping keys of the totals: the county is the project code's first two letters; the
# methodology is the project's (`unknown` for a batch issued without a project of issuance's).
TOTALS_KEYS = {
    "program": "i.program",
    "vintage": "i.vintage::text",
    "project": "i.project",
    "county": "left(i.project, 2)",
    "methodology": "coalesce(p.methodology, 'unknown')",
}


async def totals(conn: Conn, by: str) -> list[dict[str, Any]]:
    key = TOTALS_KEYS[by]
    rows = await conn.fetch(
        f"SELECT {key} AS key, sum(t.issued) AS issued, sum(t.retired) AS retired,"
        " sum(t.cancelled) AS cancelled FROM batch_totals t"
        " JOIN public_issuances i USING (batch_id)"
        " LEFT JOIN public_projects p ON p.id = i.project GROUP BY 1 ORDER BY 1"
    )
    return [
        {
            "key": r["key"],
            "issued": int(r["issued"]),
            "retired": int(r["retired"]),
            "cancelled": int(r["cancelled"]),
        }
        for r in rows
    ]


# (source sequence, position, event, subject, batch, first unit, last unit, from account,
# from state, to account, to state, time): one movement of a run of units.
MovementRow = tuple[int, int, str, str, str, int, int, Any, Any, Any, Any, datetime]


async def insert_movements(conn: Conn, rows: Sequence[MovementRow]) -> None:
    await conn.execute(
        "INSERT INTO public_movements SELECT s, p, e, subj, b, int8range(f, l, '[]'), fa, fs,"
        " ta, ts, t FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[],"
        " $6::bigint[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[],"
        " $12::timestamptz[]) AS m(s, p, e, subj, b, f, l, fa, fs, ta, ts, t)"
        " ON CONFLICT DO NOTHING",
        *as_columns(rows, 12),
    )


async def provenance(conn: Conn, batch_id: str, first: int, last: int) -> list[dict[str, Any]]:
    """Every movement of any unit of `batch_id` in `first..last`, in the registry's order, the
    accounts shown as their owner organisations."""
    rows = await conn.fetch(
        "SELECT m.event, m.subject, lower(m.units) AS start, upper(m.units) - 1 AS end,"
        " coalesce(fa.owner, m.from_account) AS from_owner, m.from_state,"
        " coalesce(ta.owner, m.to_account) AS to_owner, m.to_state, m.time"
        " FROM public_movements m"
        " LEFT JOIN public_accounts fa ON fa.id = m.from_account"
        " LEFT JOIN public_accounts ta ON ta.id = m.to_account"
        " WHERE hashtextextended(m.batch_id, 0) = hashtextextended($1, 0)"  # the index (0012)
        " AND m.batch_id = $1 AND m.units && int8range($2, $3, '[]')"
        " ORDER BY m.source_sequence, m.position",
        batch_id,
        first,
        last,
    )
    return [dict(r) for r in rows]


async def monthly_supply(conn: Conn) -> list[dict[str, Any]]:
    """Units issued and retired per calendar month (UTC), oldest first."""
    rows = await conn.fetch(
        "WITH i AS (SELECT to_char(issued_at, 'YYYY-MM') AS month, sum(end_unit - start_unit + 1)"
        " AS units FROM public_issuances GROUP BY 1),"
        " r AS (SELECT to_char(retired_at, 'YYYY-MM') AS month, sum(quantity) AS units"
        " FROM public_retirements GROUP BY 1)"
        " SELECT month, coalesce(i.units, 0) AS issued, coalesce(r.units, 0) AS retired"
        " FROM i FULL JOIN r USING (month) ORDER BY month"
    )
    return [
        {"month": r["month"], "issued": int(r["issued"]), "retired": int(r["retired"])}
        for r in rows
    ]


async def data_as_of(conn: Conn) -> datetime | None:
    """The time of the newest event the read models hold (the portal's "data as of")."""
    value: datetime | None = await conn.fetchval(
        "SELECT greatest((SELECT max(time) FROM public_movements),"
        " (SELECT max(time) FROM public_project_history),"
        " (SELECT max(time) FROM public_documents),"
        " (SELECT max(time) FROM public_comments),"
        " (SELECT max(published_at) FROM policy_versions))"
    )
    return value


async def batch_totals_page(conn: Conn, after: str | None, limit: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT batch_id, issued, retired, cancelled FROM batch_totals"
        " WHERE $1::text IS NULL OR batch_id > $1 ORDER BY batch_id LIMIT $2",
        after,
        limit,
    )
    return [dict(r) for r in rows]


async def consumed_through(conn: Conn, topic: str) -> dict[str, int | None]:
    """How many of a topic's events the read models applied, and the newest one's sequence."""
    row = await conn.fetchrow(
        "SELECT count(*) AS events, max(source_sequence) AS sequence FROM processed_events"
        " WHERE source_topic = $1",
        topic,
    )
    assert row is not None
    return {"events": row["events"], "sequence": row["sequence"]}
