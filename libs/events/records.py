"""The log's vocabulary: event contexts, recorded events, concurrency errors, shared SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import asyncpg

from libs.events.envelope import GENESIS_HASH
from libs.events.head_cache import HeadCache

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


class LogOwner(Protocol):
    """What a transaction needs of the store whose log it appends to."""

    pool: asyncpg.Pool
    source: str  # `tanhui/<service>`
    notify_channel: str
    cache: HeadCache


class OptimismFailed(Exception):
    """An optimistic transaction's assumptions were wrong; re-run it pessimistically."""


_UNIQUE_SEQUENCE = "events_pkey"
_UNIQUE_STREAM_VERSION = "events_stream_stream_version_key"


def lost_race(exc: asyncpg.UniqueViolationError, decide_now: bool) -> Exception | None:
    """What a unique violation on inserting events means, or None if it is not about the log:
    a taken sequence means another writer appended first (re-run); a taken stream version is a
    ConcurrencyConflict if `decide_now` (a pessimistic transaction that assumed the stream new),
    else a reason to re-run and decide under the log lock."""
    if exc.constraint_name == _UNIQUE_SEQUENCE:
        return OptimismFailed("another writer appended first")
    if exc.constraint_name != _UNIQUE_STREAM_VERSION:
        return None
    if not decide_now:
        return OptimismFailed("stream version taken")
    return ConcurrencyConflict(_stream_of(exc), 0, None)


def _stream_of(exc: asyncpg.UniqueViolationError) -> str:
    detail = str(getattr(exc, "detail", "") or "")
    # "Key (stream, stream_version)=(account/A, 3) already exists."
    inside = detail.partition(")=(")[2]
    return inside.rpartition(",")[0] or "unknown"


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


EVENT_COLUMNS = (
    "sequence, id, stream, stream_version, type, time, actor, correlation_id, causation_id,"
    " traceparent, prevhash, hash, data"
)


async def read_head(conn: asyncpg.Connection) -> tuple[int, str]:
    row = await conn.fetchrow("SELECT sequence, hash FROM events ORDER BY sequence DESC LIMIT 1")
    return (0, GENESIS_HASH) if row is None else (int(row["sequence"]), str(row["hash"]))
