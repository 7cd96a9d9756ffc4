"""`tanhui disclosure rebuild`: the read models replayed from every topic's offset 0 into a
scratch database, compared with the live ones table by table.

The topics are read whole, together (each stream in order; streams and topics in any order,
as the live consumers deliver them), every event once by its id (a topic may hold a
republished log twice), through the live consumers' own run handlers: a run of up to `RUN`
events of one topic per transaction, as the live consumer applies what it fetches together. Policies are not in the comparison: they are
disclosure's own aggregate, whose source of truth is its own log.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from libs.events.consumer import decode
from libs.events.envelope import Envelope
from libs.events.kafka import read_whole_topics
from services.disclosure.consumers import HANDLERS, run_handler

RUN = 1000  # events per transaction

READ_MODELS = (
    "public_accounts",
    "public_issuances",
    "public_retirements",
    "public_cancellations",
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
    """Every topic's events through the consumers' run handlers into `scratch`; how many."""
    sources = {f"{topic_prefix}tanhui.{source}": source for source in HANDLERS}
    runs: dict[str, list[Envelope]] = {source: [] for source in HANDLERS}
    seen: set[str] = set()
    async for record in read_whole_topics(bootstrap, list(sources)):
        envelope = decode(record.value)
        if envelope.id in seen:
            continue
        seen.add(envelope.id)
        source = sources[record.topic]
        runs[source].append(envelope)
        if len(runs[source]) == RUN:
            await _apply(scratch, source, runs[source])
            runs[source] = []
    for source, run in runs.items():
        if run:
            await _apply(scratch, source, run)
    return len(seen)


async def _apply(scratch: asyncpg.Connection, source: str, run: list[Envelope]) -> None:
    async with scratch.transaction():
        await run_handler(source)(scratch, run)  # type: ignore[arg-type]


async def compare(
    bootstrap: str, topic_prefix: str, live: asyncpg.Connection, scratch: asyncpg.Connection
) -> RebuildReport:
    events = await replay(bootstrap, topic_prefix, scratch)
    before, after = await digests(live), await digests(scratch)
    return RebuildReport(events, [t for t in READ_MODELS if before[t] != after[t]])
