"""Postgres event store: `append` inside the caller's transaction, reads by stream and position.

Appends are buffered per transaction and written by `flush` in one round trip (an `unnest`
INSERT plus the stream-version upsert, the head update and a NOTIFY). Sequence numbers and
hashes are assigned at `append` time, under the `event_log_head` row lock taken by the first
append of the transaction, so callers can use them in their projections.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson

from libs.events.catalog import EventPayload
from libs.events.envelope import GENESIS_HASH, Envelope, format_time, hash_of
from libs.events.ids import new_event_id

NOTIFY_CHANNEL = "tanhui_events"
ANY_VERSION = -1
_STREAM_CACHE_LIMIT = 200_000


class ConcurrencyConflict(Exception):
    """The stream is not at the version the caller expected."""

    def __init__(self, stream: str, expected: int, actual: int) -> None:
        super().__init__(f"stream {stream!r} is at version {actual}, expected {expected}")
        self.stream = stream
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class EventContext:
    """Who and what caused the events appended by one command."""

    actor: str = "system"
    correlation_id: str | None = None
    causation_id: str | None = None
    traceparent: str | None = None


@dataclass(frozen=True)
class Recorded:
    sequence: int
    id: str
    stream: str
    stream_version: int
    type: str
    hash: str


@dataclass
class _Pending:
    columns: list[list[Any]] = field(default_factory=lambda: [[] for _ in range(13)])
    versions: dict[str, int] = field(default_factory=dict)

    def count(self) -> int:
        return len(self.columns[0])


_FLUSH_SQL = """
WITH ev AS (
    INSERT INTO events (sequence, id, stream, stream_version, type, time, actor,
                        correlation_id, causation_id, traceparent, prevhash, hash, data)
    SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::int[], $5::text[],
                         $6::timestamptz[], $7::text[], $8::text[], $9::text[], $10::text[],
                         $11::text[], $12::text[], $13::json[])
    RETURNING 1
), st AS (
    INSERT INTO event_streams (stream, version)
    SELECT * FROM unnest($14::text[], $15::int[])
    ON CONFLICT (stream) DO UPDATE SET version = excluded.version
    RETURNING 1
), hd AS (
    UPDATE event_log_head SET last_sequence = $16, last_hash = $17 RETURNING 1
)
SELECT pg_notify($18, $16::text)
"""


class EventTransaction:
    """The event-log side of one database transaction (see `EventStore.transaction`)."""

    def __init__(self, store: EventStore, conn: asyncpg.Connection) -> None:
        self.store = store
        self.conn = conn
        self.context = EventContext()
        self._locked_head: int | None = None
        self._sequence = 0
        self._hash = GENESIS_HASH
        self._pending = _Pending()

    async def append(
        self, stream: str, expected_version: int, events: Sequence[EventPayload]
    ) -> list[Recorded]:
        """Append `events` to `stream` if it is at `expected_version` (ANY_VERSION: no check)."""
        if not events:
            return []
        await self._lock_head()
        current = await self._stream_version(stream)
        if expected_version != ANY_VERSION and current != expected_version:
            raise ConcurrencyConflict(stream, expected_version, current)
        now = format_time(datetime.now(UTC))
        return [self._record(stream, current + i + 1, event, now) for i, event in enumerate(events)]

    def savepoint(self) -> tuple[int, str, int, dict[str, int]]:
        """Snapshot of the buffered appends, for rolling one command back within a batch."""
        return self._sequence, self._hash, self._pending.count(), dict(self._pending.versions)

    def rollback_to(self, mark: tuple[int, str, int, dict[str, int]]) -> None:
        self._sequence, self._hash, count, versions = mark
        for column in self._pending.columns:
            del column[count:]
        self._pending.versions = versions

    async def stream_version(self, stream: str) -> int:
        await self._lock_head()
        return await self._stream_version(stream)

    async def flush(self) -> None:
        pending = self._pending
        if pending.count() == 0:
            return
        streams = list(pending.versions)
        await self.conn.execute(
            _FLUSH_SQL,
            *pending.columns,
            streams,
            [pending.versions[s] for s in streams],
            self._sequence,
            self._hash,
            self.store.notify_channel,
        )

    def committed(self) -> None:
        if self._locked_head is not None:
            self.store._after_commit(self._locked_head, self._sequence, self._pending.versions)

    # -- internals -------------------------------------------------------------------------

    async def _lock_head(self) -> None:
        if self._locked_head is not None:
            return
        row = await self.conn.fetchrow(
            "SELECT last_sequence, last_hash FROM event_log_head FOR UPDATE"
        )
        assert row is not None, "event_log_head is missing: migrations not applied"
        self._locked_head = self._sequence = row["last_sequence"]
        self._hash = row["last_hash"]
        self.store._validate_cache(self._sequence)

    async def _stream_version(self, stream: str) -> int:
        pending = self._pending.versions.get(stream)
        if pending is not None:
            return pending
        cached = self.store._stream_versions.get(stream)
        if cached is not None:
            return cached
        version = await self.conn.fetchval(
            "SELECT version FROM event_streams WHERE stream = $1", stream
        )
        version = version or 0
        self.store._stream_versions[stream] = version
        return int(version)

    def _record(self, stream: str, version: int, event: EventPayload, now: str) -> Recorded:
        ctx = self.context
        sequence = self._sequence + 1
        event_id = str(new_event_id())
        data = event.to_data()
        body = {
            "specversion": "1.0",
            "id": event_id,
            "source": self.store.source,
            "type": event.event_type,
            "subject": stream,
            "time": now,
            "sequence": sequence,
            "streamversion": version,
            "actor": ctx.actor,
            "correlationid": ctx.correlation_id,
            "causationid": ctx.causation_id,
            "traceparent": ctx.traceparent,
            "prevhash": self._hash,
            "data": data,
        }
        digest = hash_of(body)
        row = (
            sequence,
            event_id,
            stream,
            version,
            event.event_type,
            datetime.fromisoformat(now),
            ctx.actor,
            ctx.correlation_id,
            ctx.causation_id,
            ctx.traceparent,
            self._hash,
            digest,
            orjson.dumps(data).decode(),
        )
        for column, value in zip(self._pending.columns, row, strict=True):
            column.append(value)
        self._pending.versions[stream] = version
        self._sequence, self._hash = sequence, digest
        return Recorded(sequence, event_id, stream, version, event.event_type, digest)


class EventStore:
    """One service's log. `source` is `tanhui/<service>`."""

    def __init__(
        self, pool: asyncpg.Pool, service: str, notify_channel: str = NOTIFY_CHANNEL
    ) -> None:
        self.pool = pool
        self.service = service
        self.source = f"tanhui/{service}"
        self.notify_channel = notify_channel
        # Stream versions known to be current as of log head `_cache_head`. Valid only while
        # no other process has appended, which `_validate_cache` checks under the head lock.
        self._stream_versions: dict[str, int] = {}
        self._cache_head = -1

    @asynccontextmanager
    async def transaction(
        self, context: EventContext | None = None
    ) -> AsyncIterator[EventTransaction]:
        """A database transaction whose appends are flushed just before it commits."""
        async with self.pool.acquire() as conn, conn.transaction():
            tx = EventTransaction(self, conn)
            if context is not None:
                tx.context = context
            yield tx
            await tx.flush()
        tx.committed()

    async def append(
        self,
        stream: str,
        expected_version: int,
        events: Sequence[EventPayload],
        context: EventContext | None = None,
    ) -> list[Recorded]:
        """Append in a transaction of its own."""
        async with self.transaction(context) as tx:
            return await tx.append(stream, expected_version, events)

    async def head(self) -> tuple[int, str]:
        row = await self.pool.fetchrow("SELECT last_sequence, last_hash FROM event_log_head")
        assert row is not None
        return int(row["last_sequence"]), str(row["last_hash"])

    async def read_stream(self, stream: str, after_version: int = 0) -> list[Envelope]:
        rows = await self.pool.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream = $1 AND stream_version > $2"
            " ORDER BY stream_version",
            stream,
            after_version,
        )
        return [self.envelope(row) for row in rows]

    async def read_after(self, sequence: int, limit: int = 1000) -> list[Envelope]:
        rows = await self.pool.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE sequence > $1 ORDER BY sequence LIMIT $2",
            sequence,
            limit,
        )
        return [self.envelope(row) for row in rows]

    async def iterate(self, after: int = 0, page: int = 5000) -> AsyncIterator[list[Envelope]]:
        """Pages of the whole log in sequence order (for verify, rebuild, republish)."""
        while True:
            batch = await self.read_after(after, page)
            if not batch:
                return
            yield batch
            after = batch[-1].sequence

    def envelope(self, row: asyncpg.Record) -> Envelope:
        return Envelope(
            id=str(row["id"]),
            source=self.source,
            type=row["type"],
            subject=row["stream"],
            time=format_time(row["time"]),
            sequence=row["sequence"],
            streamversion=row["stream_version"],
            actor=row["actor"],
            correlationid=row["correlation_id"],
            causationid=row["causation_id"],
            traceparent=row["traceparent"],
            prevhash=row["prevhash"],
            hash=row["hash"],
            data=orjson.loads(row["data"]),
        )

    def _validate_cache(self, locked_head: int) -> None:
        if locked_head != self._cache_head or len(self._stream_versions) > _STREAM_CACHE_LIMIT:
            self._stream_versions.clear()
            self._cache_head = locked_head

    def _after_commit(self, locked_head: int, new_head: int, versions: dict[str, int]) -> None:
        if self._cache_head == locked_head:
            self._stream_versions.update(versions)
            self._cache_head = new_head
        else:
            self._stream_versions.clear()


_COLUMNS = (
    "sequence, id, stream, stream_version, type, time, actor, correlation_id, causation_id,"
    " traceparent, prevhash, hash, data"
)


def envelopes_to_json_lines(envelopes: Iterable[Envelope]) -> bytes:
    return b"".join(orjson.dumps(e.to_json_dict()) + b"\n" for e in envelopes)
