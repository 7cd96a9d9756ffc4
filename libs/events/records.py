"""The log's vocabulary: event contexts, recorded events, concurrency errors, shared SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import asyncpg

from libs.events.envelope import GENESIS_HASH

NOTIFY_CHANNEL = "tanhui_events"
ANY_VERSION = -1


class ConcurrencyConflict(Exception):
    """The stream is not at the version the caller expected."""

    def __init__(self, stream: str, expected: int, actual: int | None) -> None:
        at = "an unknown version" if actual is None else f"version {actual}"
        super().__init__(f"stream {stream!r} is at {at}, expected {expected}")
        self.stream = stream
        self.expected = expected
        self.actual = actual


class Queryable(Protocol):
    """What store modules need of a connection: an asyncpg Pool, Connection or a transaction."""

    async def execute(self, query: str, *args: Any) -> str: ...

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]: ...

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None: ...

    async def fetchval(self, query: str, *args: Any) -> Any: ...


class OptimismFailed(Exception):
    """An optimistic transaction's assumptions were wrong; re-run it pessimistically."""


@dataclass(frozen=True)
class EventContext:
    """Who and what caused the events appended by one command."""

    actor: str = "system"
    correlation_id: str | None = None
    causation_id: str | None = None
    traceparent: str | None = None


class Recorded(NamedTuple):  # a named tuple: one per appended event, built in a third of the time
    sequence: int
    id: str
    stream: str
    stream_version: int
    type: str
    hash: str


_EVENT_COLUMNS = (
    "sequence, id, stream, stream_version, type, time, actor, correlation_id, causation_id,"
    " traceparent, prevhash, hash, data"
)


async def _read_head(conn: asyncpg.Connection) -> tuple[int, str]:
    row = await conn.fetchrow("SELECT sequence, hash FROM events ORDER BY sequence DESC LIMIT 1")
    return (0, GENESIS_HASH) if row is None else (int(row["sequence"]), str(row["hash"]))
