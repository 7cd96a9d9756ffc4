"""SQL of `verify` and `rebuild`: the log read in pages, the live blocks and head, the
projection tables' digests, and the rebuild's exclusive lock, truncation and bulk writes."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import asyncpg

from libs.named_sql import bind


async def head_and_blocks(
    conn: asyncpg.Connection,
) -> tuple[asyncpg.Record | None, list[asyncpg.Record]]:
    """The log's last event (sequence, hash) and every block's (batch, units, account, state),
    by batch and unit: call inside one REPEATABLE READ transaction."""
    head = await conn.fetchrow("SELECT sequence, hash FROM events ORDER BY sequence DESC LIMIT 1")
    blocks = await conn.fetch(
        "SELECT batch_id, start_unit, end_unit, account_id, state FROM blocks"
        " ORDER BY batch_id, start_unit"
    )
    return head, list(blocks)


# Every stored column verify needs; id and time rendered by PostgreSQL exactly as
# `format_time` renders them for hashing: RFC 3339 UTC, 6-digit microseconds.
_VERIFY_PAGE = (
    "SELECT sequence, id::text AS id_text, stream, stream_version, type,"
    " to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    " AS time_text, actor, correlation_id, causation_id, traceparent, prevhash, hash,"
    " data FROM events WHERE sequence > :after AND sequence <= :upto"
    " ORDER BY sequence LIMIT :size"
)


async def verify_page(
    conn: asyncpg.Connection, after: int, upto: int, size: int
) -> list[asyncpg.Record]:
    """Events after `after` up to `upto`, at most `size`, as verify checks them."""
    sql, args = bind(_VERIFY_PAGE, after=after, upto=upto, size=size)
    return list(await conn.fetch(sql, *args))


_EVENT_PAGE = (
    "SELECT sequence, type, time, data FROM events WHERE sequence > :after"
    " ORDER BY sequence LIMIT :size"
)


async def event_pages(
    conn: asyncpg.Connection, size: int = 20_000
) -> AsyncIterator[list[asyncpg.Record]]:
    """The whole log (sequence, type, time, data) in pages, in order."""
    after = 0
    while True:
        sql, args = bind(_EVENT_PAGE, after=after, size=size)
        rows = await conn.fetch(sql, *args)
        if not rows:
            return
        yield list(rows)
        after = rows[-1]["sequence"]


async def projection_digests(
    conn: asyncpg.Connection, columns: Mapping[str, str]
) -> dict[str, str]:
    """One SHA-256 per table over `columns[table]` (its compared columns), rows in their
    order."""
    digests = {}
    for table, compared in columns.items():
        rows = await conn.fetch(
            f"SELECT {compared} FROM {table} ORDER BY {compared.replace('::text', '')}"
        )
        digest = hashlib.sha256()
        for row in rows:
            digest.update(repr(tuple(row)).encode() + b"\n")
        digests[table] = digest.hexdigest()
    return digests


async def lock_for_rebuild(conn: asyncpg.Connection, tables: Sequence[str]) -> None:
    """Writers wait while the projections are rebuilt (an operator's maintenance command)."""
    await conn.execute(f"LOCK TABLE events, {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")


async def truncate(conn: asyncpg.Connection, tables: Sequence[str]) -> None:
    await conn.execute(f"TRUNCATE {', '.join(tables)}")


async def write_rows(
    conn: asyncpg.Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    if rows:
        await conn.copy_records_to_table(table, records=rows, columns=list(columns))
