"""`tanhui disclosure rebuild`: the read models replayed from every topic's offset 0 into a
scratch database, compared with the live ones table by table.

Each topic is read whole (each stream in order; streams in any order, as the read models
expect), every event once by its id (a topic may hold a republished log twice), through the
live consumers' own handlers. Policies are not in the comparison: they are disclosure's own
aggregate, whose source of truth is its own log.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from libs.events.consumer import decode
from libs.events.kafka import read_whole_topic
from services.disclosure.consumers import HANDLERS

READ_MODELS = (
    "public_accounts",
    "public_issuances",
    "public_retirements",
    "batch_totals",
    "public_movements",
    "public_projects",
    "public_project_history",
    "public_monitoring_reports",
    "public_parcels",
    "public_documents",
    "public_comments",
    "market_instruments",
    "market_trades",
    "public_points_schemes",
    "public_labels",
)


@dataclass(frozen=True)
class RebuildReport:
    events: int
    differing: list[str]

    @property
    def ok(self) -> bool:
        return not self.differing


async def digests(conn: asyncpg.Connection) -> dict[str, str]:
    """One digest per read model over all its rows (as text, in text order)."""
    result = {}
    for table in READ_MODELS:
        result[table] = await conn.fetchval(
            f"SELECT coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '') FROM {table} t"
        )
    return result


async def replay(bootstrap: str, topic_prefix: str, scratch: asyncpg.Connection) -> int:
    """Every topic's events through the consumers' handlers into `scratch`; how many."""
    seen: set[str] = set()
    for source, handler in HANDLERS.items():
        async for record in read_whole_topic(bootstrap, f"{topic_prefix}tanhui.{source}"):
            envelope = decode(record.value)
            if envelope.id in seen:
                continue
            seen.add(envelope.id)
            async with scratch.transaction():
                await handler(scratch, envelope)  # type: ignore[arg-type]
    return len(seen)


async def compare(
    bootstrap: str, topic_prefix: str, live: asyncpg.Connection, scratch: asyncpg.Connection
) -> RebuildReport:
    events = await replay(bootstrap, topic_prefix, scratch)
    before, after = await digests(live), await digests(scratch)
    return RebuildReport(events, [t for t in READ_MODELS if before[t] != after[t]])
