"""`verify`: replay the matching log and compare what it implies with the live tables.

Reads the log and the tables in one REPEATABLE READ snapshot, so it may run beside live
traffic. Reports the tables that differ (and a log that contradicts itself), changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import orjson

from libs.events.contract import matching as contract
from services.matching import store
from services.matching.replay import COLUMNS, MatchingReplay, ReplayMismatch, live_rows


@dataclass(frozen=True)
class MatchingReport:
    events: int
    differing: list[str]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.differing and not self.problems


async def verify(pool: asyncpg.Pool) -> MatchingReport:
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        replay = MatchingReplay()
        events = 0
        async for row in store.log(conn):
            replay.apply(
                row["sequence"], contract.catalog.decode(row["type"], orjson.loads(row["data"]))
            )
            events += 1
        try:
            implied = replay.rows()
        except ReplayMismatch as mismatch:
            return MatchingReport(events, [], [str(mismatch)])
        differing = []
        for table, columns in COLUMNS.items():
            live = live_rows(table, await store.table_rows(conn, table, columns))
            if live != implied[table]:
                differing.append(table)
        return MatchingReport(events, differing, [])
