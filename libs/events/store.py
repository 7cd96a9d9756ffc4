"""Postgres event store: `append` inside the caller's transaction, reads by stream and position.

Appends are buffered per transaction; `flush` writes them in one round trip: an `unnest`
INSERT and a compare-and-set of the `event_log_head` row, plus a
NOTIFY for the relay. Sequence numbers and hashes are assigned at `append` time from the head
the transaction is based on, so callers can use them in their projections.

Two modes (see `EventTransaction`):
- *pessimistic*: the first append locks the head row (`SELECT … FOR UPDATE`) and reads the
  versions of streams it does not know; errors surface at the `append` call.
- *optimistic*: the transaction is based on the head this process last committed, and a new
  stream (`expected_version=0`) is assumed new. The flush's compare-and-set and the unique
  index on `(stream, stream_version)` catch the rare case where that was wrong (another
  replica wrote); the caller then re-runs the work pessimistically.
Either way the head row is locked from the flush until commit, so sequences commit in order
and a reader tailing by position can never skip one.

The connection is reached through the transaction's query methods (`execute`, `fetch`, …),
which open the database transaction lazily: a command that only appends commits as a single
autocommit statement.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
import orjson
from asyncpg.transaction import Transaction

from libs.events.catalog import EventPayload
from libs.events.envelope import Envelope, format_time, hash_of_envelope
from libs.events.ids import new_event_id_text

NOTIFY_CHANNEL = "tanhui_events"
ANY_VERSION = -1
_STREAM_CACHE_LIMIT = 200_000
_STREAM_UNIQUE = "events_stream_stream_version_key"


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
WITH hd AS (
    UPDATE event_log_head SET last_sequence = $14, last_hash = $15
    WHERE last_sequence = $16
    RETURNING 1
), ev AS (
    INSERT INTO events (sequence, id, stream, stream_version, type, time, actor,
                        correlation_id, causation_id, traceparent, prevhash, hash, data)
    SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::int[], $5::text[],
                         $6::timestamptz[], $7::text[], $8::text[], $9::text[], $10::text[],
                         $11::text[], $12::text[], $13::json[])
    WHERE EXISTS (SELECT 1 FROM hd)
    RETURNING 1
)
SELECT (SELECT count(*) FROM hd) AS head_moved, pg_notify($17, $14::text)
"""


class EventTransaction:
    """The event-log side of one database transaction, and the command's way to the database."""

    def __init__(
        self,
        store: EventStore,
        conn: asyncpg.Connection,
        optimistic: bool,
        assume_new_streams: bool | None = None,
    ) -> None:
        self.store = store
        self._conn = conn
        self.optimistic = optimistic
        # Skip the version lookup for `expected_version=0` and let the unique index decide.
        self.assume_new_streams = optimistic if assume_new_streams is None else assume_new_streams
        self.context = EventContext()
        self._db_tx: Transaction | None = None
        self._base: int | None = None  # the head sequence this transaction builds on
        self._sequence = 0
        self._hash = ""
        self._pending = _Pending()

    # -- the database, opened lazily ---------------------------------------------------------

    async def begin(self) -> asyncpg.Connection:
        if self._db_tx is None:
            self._db_tx = self._conn.transaction()
            await self._db_tx.start()
        return self._conn

    async def execute(self, query: str, *args: Any) -> str:
        return str(await (await self.begin()).execute(query, *args))

    async def executemany(self, query: str, args: Iterable[Sequence[Any]]) -> None:
        await (await self.begin()).executemany(query, args)

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        return list(await (await self.begin()).fetch(query, *args))

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        return await (await self.begin()).fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await (await self.begin()).fetchval(query, *args)

    # -- appending ---------------------------------------------------------------------------

    async def append(
        self, stream: str, expected_version: int, events: Sequence[EventPayload]
    ) -> list[Recorded]:
        """Append `events` to `stream` if it is at `expected_version` (ANY_VERSION: no check)."""
        if not events:
            return []
        await self._ensure_base()
        current = await self._stream_version(stream, expected_version)
        if expected_version != ANY_VERSION and current != expected_version:
            if self.optimistic:
                raise OptimismFailed(stream)  # the cache may be stale: decide under the lock
            raise ConcurrencyConflict(stream, expected_version, current)
        moment = datetime.now(UTC)
        now = (moment, format_time(moment))
        return [self._record(stream, current + i + 1, event, now) for i, event in enumerate(events)]

    async def stream_version(self, stream: str) -> int:
        await self._ensure_base()
        return await self._stream_version(stream, ANY_VERSION)

    def savepoint(self) -> tuple[int, str, int, dict[str, int]]:
        """Snapshot of the buffered appends, for rolling one command back within a batch."""
        return self._sequence, self._hash, self._pending.count(), dict(self._pending.versions)

    def rollback_to(self, mark: tuple[int, str, int, dict[str, int]]) -> None:
        self._sequence, self._hash, count, versions = mark
        for column in self._pending.columns:
            del column[count:]
        self._pending.versions = versions

    async def flush(self) -> None:
        """Write the buffered events. Raises ConcurrencyConflict or OptimismFailed."""
        pending = self._pending
        if pending.count() == 0:
            return
        try:
            row = await self._conn.fetchrow(
                _FLUSH_SQL,
                *pending.columns,
                self._sequence,
                self._hash,
                self._base,
                self.store.notify_channel,
            )
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name != _STREAM_UNIQUE:
                raise
            self.store._forget_cache()
            if self.optimistic:
                raise OptimismFailed("stream version taken") from exc
            raise ConcurrencyConflict(_stream_of(exc), -1, None) from exc
        assert row is not None
        if not row["head_moved"]:
            self.store._forget_cache()
            raise OptimismFailed("another writer moved the log head")

    async def commit(self) -> None:
        if self._db_tx is not None:
            await self._db_tx.commit()
            self._db_tx = None
        if self._base is not None and self._pending.count():
            self.store._after_commit(self._base, self._sequence, self._hash, self._pending.versions)

    async def rollback(self) -> None:
        if self._db_tx is not None:
            tx, self._db_tx = self._db_tx, None
            await tx.rollback()

    # -- internals ---------------------------------------------------------------------------

    async def _ensure_base(self) -> None:
        if self._base is not None:
            return
        if self.optimistic and self.store._head is not None:
            self._base, self._hash = self.store._head
        else:
            await self.begin()
            row = await self._conn.fetchrow(
                "SELECT last_sequence, last_hash FROM event_log_head FOR UPDATE"
            )
            assert row is not None, "event_log_head is missing: migrations not applied"
            self._base, self._hash = int(row["last_sequence"]), str(row["last_hash"])
            self.store._validate_cache(self._base, self._hash)
        self._sequence = self._base

    async def _stream_version(self, stream: str, expected: int) -> int:
        pending = self._pending.versions.get(stream)
        if pending is not None:
            return pending
        cached = self.store._stream_versions.get(stream)
        if cached is not None:
            return cached
        if expected == 0 and self.assume_new_streams:
            return 0  # assumed new; the unique index on (stream, stream_version) has the last word
        version = await self.fetchval(
            "SELECT max(stream_version) FROM events WHERE stream = $1", stream
        )
        return int(version or 0)

    def _record(
        self, stream: str, version: int, event: EventPayload, now: tuple[datetime, str]
    ) -> Recorded:
        ctx = self.context
        sequence = self._sequence + 1
        event_id = new_event_id_text()
        data = event.to_data()
        body = {
            "specversion": "1.0",
            "id": event_id,
            "source": self.store.source,
            "type": event.event_type,
            "subject": stream,
            "time": now[1],
            "sequence": sequence,
            "streamversion": version,
            "actor": ctx.actor,
            "correlationid": ctx.correlation_id,
            "causationid": ctx.causation_id,
            "traceparent": ctx.traceparent,
            "prevhash": self._hash,
            "data": data,
        }
        digest = hash_of_envelope(body, event.jcs_safe)
        row = (
            sequence,
            event_id,
            stream,
            version,
            event.event_type,
            now[0],
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


def _stream_of(exc: asyncpg.UniqueViolationError) -> str:
    detail = str(getattr(exc, "detail", "") or "")
    # "Key (stream, stream_version)=(account/A, 3) already exists."
    inside = detail.partition(")=(")[2]
    return inside.rpartition(",")[0] or "unknown"


class EventStore:
    """One service's log. `source` is `tanhui/<service>`."""

    def __init__(
        self, pool: asyncpg.Pool, service: str, notify_channel: str = NOTIFY_CHANNEL
    ) -> None:
        self.pool = pool
        self.service = service
        self.source = f"tanhui/{service}"
        self.notify_channel = notify_channel
        # The head this process last committed or read under the lock, and the stream
        # versions current as of that head. Optimistic transactions build on them; the
        # flush's compare-and-set proves them right or sends the work down the slow path.
        self._head: tuple[int, str] | None = None
        self._stream_versions: dict[str, int] = {}

    @asynccontextmanager
    async def transaction(
        self, context: EventContext | None = None
    ) -> AsyncIterator[EventTransaction]:
        """A pessimistic transaction: the first append locks the head; flushed at exit.

        A new stream (`expected_version=0`) that turns out to exist fails at exit with
        ConcurrencyConflict, after the caller's body ran; nothing is committed then.
        """
        async with self.pool.acquire() as conn:
            tx = EventTransaction(self, conn, optimistic=False, assume_new_streams=True)
            if context is not None:
                tx.context = context
            try:
                yield tx
                await tx.begin()
                await tx.flush()
                await tx.commit()
            finally:
                await tx.rollback()

    async def append(
        self,
        stream: str,
        expected_version: int,
        events: Sequence[EventPayload],
        context: EventContext | None = None,
    ) -> list[Recorded]:
        """Append in a transaction of its own (optimistic first: one round trip)."""
        from libs.events.writer import run_alone

        async def command(tx: EventTransaction) -> list[Recorded]:
            return await tx.append(stream, expected_version, events)

        return await run_alone(self, command, context or EventContext())

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

    def _validate_cache(self, head: int, head_hash: str) -> None:
        """Under the head lock: keep the cache only if nobody else wrote since we did."""
        if (
            self._head is None
            or self._head[0] != head
            or len(self._stream_versions) > _STREAM_CACHE_LIMIT
        ):
            self._stream_versions.clear()
        self._head = (head, head_hash)

    def _after_commit(self, base: int, head: int, head_hash: str, versions: dict[str, int]) -> None:
        if self._head is not None and self._head[0] == base:
            self._stream_versions.update(versions)
        else:
            self._stream_versions.clear()
        self._head = (head, head_hash)

    def _forget_cache(self) -> None:
        self._head = None
        self._stream_versions.clear()


_COLUMNS = (
    "sequence, id, stream, stream_version, type, time, actor, correlation_id, causation_id,"
    " traceparent, prevhash, hash, data"
)


def envelopes_to_json_lines(envelopes: Iterable[Envelope]) -> bytes:
    return b"".join(orjson.dumps(e.to_json_dict()) + b"\n" for e in envelopes)
