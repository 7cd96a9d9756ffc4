"""SQL of the transparency log: it reads the service's own event log, and writes nothing."""

from __future__ import annotations

from libs.events.store import Queryable


async def head(conn: Queryable) -> int:
    """The log's last sequence (0 when empty): sequences commit in order, without gaps."""
    return int(await conn.fetchval("SELECT coalesce(max(sequence), 0) FROM events"))


async def event_hashes(conn: Queryable, first: int, last: int) -> list[bytes]:
    """The hashes of the events `first..last` (sequences, both included), in order."""
    rows = await conn.fetch(
        "SELECT hash FROM events WHERE sequence BETWEEN $1 AND $2 ORDER BY sequence",
        first,
        last,
    )
    return [bytes.fromhex(row["hash"]) for row in rows]
