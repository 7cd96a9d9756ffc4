"""Postgres event store: `append` inside the caller's transaction, reads by stream and position.

Appends are buffered per transaction; `flush` writes them in one round trip (one INSERT and a
NOTIFY for the relay). Sequence numbers and hashes are assigned at `append` time, counting on
from the head the transaction builds on, so callers can use them in their projections. The
primary key on `sequence` is the compare-and-set that proves that head was current (see
`libs.events.schema`).

Two modes (see `EventTransaction`):
- *pessimistic*: the first append takes the log's advisory transaction lock, then reads the
  head and the versions of streams it does not know; errors surface at the `append` call.
- *optimistic*: the transaction builds on the head this process last committed, and a new
  stream (`expected_version=0`) is assumed new. The primary key and the unique index on
  `(stream, stream_version)` catch the rare case where that was wrong (another replica
  wrote); the caller then re-runs the work pessimistically.

The connection is reached through the transaction's query methods (`execute`, `fetch`, …),
which open the database transaction lazily: a command that only appends commits as a single
autocommit statement.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
import orjson
from asyncpg.transaction import Transaction

from libs.events.catalog import EventPayload
from libs.events.envelope import GENESIS_HASH, Envelope, format_time, hash_of_envelope
from libs.events.ids import new_event_id_text

NOTIFY_CHANNEL = "tanhui_events"
ANY_VERSION = -1
_STREAM_CACHE_LIMIT = 200_000
_UNIQUE_STREAM_VERSION = "events_stream_stream_version_key"


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


@dataclass(frozen=True, slots=True)
class Recorded:
    sequence: int
    id: str
    stream: str
    stream_version: int
    type: str
    hash: str


@dataclass
class _Pending:
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)


_EVENT_COLUMNS = (
    "sequence, id, stream, stream_version, type, time, actor, correlation_id, causation_id,"
    " traceparent, prevhash, hash, data"
)
_FLUSH_ONE_SQL = f"""
WITH ev AS (
    INSERT INTO events ({_EVENT_COLUMNS})
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
    RETURNING 1
)
SELECT pg_notify($14, $15::text) FROM ev
"""
_FLUSH_MANY_SQL = f"""
WITH ev AS (
    INSERT INTO events ({_EVENT_COLUMNS})
    SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::int[], $5::text[],
                         $6::timestamptz[], $7::text[], $8::text[], $9::text[], $10::text[],
                         $11::text[], $12::text[], $13::json[])
    RETURNING 1
)
SELECT pg_notify($14, $15::text) FROM ev LIMIT 1
"""
# One lock for the whole log, held by pessimistic transactions until they end.
LOG_LOCK_KEY = 0x74616E68  # "tanh"
_UNIQUE_SEQUENCE = "events_pkey"
# Events buffered before a chunk is sent ahead while the transaction goes on.
PIPELINE_CHUNK = 64


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
        self._appended = 0  # events appended so far, sent or not
        # Rows for `unnest` INSERTs that commands only write (indexes, records): one statement
        # per batch at flush instead of one round trip per command.
        self._deferred: dict[str, list[tuple[Any, ...]]] = {}
        self._inflight: asyncio.Task[None] | None = None
        # One timestamp per transaction: the events of one transaction happen together.
        self._now: tuple[datetime, str] | None = None

    # -- the database, opened lazily ---------------------------------------------------------

    async def begin(self) -> asyncpg.Connection:
        await self._drain()
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
        if self._base is None:
            await self._ensure_base()
        # Fast path without awaiting: versions this transaction or process already knows.
        current = self._pending.versions.get(stream)
        if current is None:
            current = self.store._stream_versions.get(stream)
        if current is None:
            current = await self._stream_version(stream, expected_version)
        if expected_version != ANY_VERSION and current != expected_version:
            if self.optimistic:
                raise OptimismFailed(stream)  # the cache may be stale: decide under the lock
            raise ConcurrencyConflict(stream, expected_version, current)
        if self._now is None:
            moment = datetime.now(UTC)
            self._now = (moment, format_time(moment))
        now = self._now
        recorded = [
            self._record(stream, current + i + 1, event, now) for i, event in enumerate(events)
        ]
        if len(self._pending.rows) >= PIPELINE_CHUNK:
            await self._send_chunk_in_background()
        return recorded

    def defer_rows(self, statement: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Write `rows` with `statement` (parameters: one array per column) at flush time."""
        self._deferred.setdefault(statement, []).extend(rows)

    async def stream_version(self, stream: str) -> int:
        await self._ensure_base()
        return await self._stream_version(stream, ANY_VERSION)

    async def savepoint(self) -> tuple[int, str, int, dict[str, int]]:
        """SAVEPOINT, after sending every buffered event: a pipelined chunk must never mix
        events from before the savepoint with events after it."""
        await self.flush()
        await self.execute("SAVEPOINT command")
        return self._sequence, self._hash, self._appended, dict(self._pending.versions)

    # Deferred rows are buffered in Python until flush, so a savepoint flushes them too (above);
    # rolling back to it then only has to drop what was deferred since.

    async def release(self) -> None:
        await self.execute("RELEASE SAVEPOINT command")

    async def rollback_to(self, mark: tuple[int, str, int, dict[str, int]]) -> None:
        """Take back everything appended since `mark`, sent or still buffered."""
        if self._inflight is not None:
            task, self._inflight = self._inflight, None
            await asyncio.gather(task, return_exceptions=True)
        await self._conn.execute("ROLLBACK TO SAVEPOINT command")
        self._sequence, self._hash, self._appended, self._pending.versions = mark
        self._pending.rows.clear()
        self._deferred.clear()  # everything deferred before the savepoint was flushed by it

    async def flush(self) -> None:
        """Write the buffered events and deferred rows. Raises ConcurrencyConflict or
        OptimismFailed."""
        await self._drain()
        if self._deferred:
            deferred, self._deferred = self._deferred, {}
            await self.begin()  # more than one statement now
            for statement, rows in deferred.items():
                await self._conn.execute(statement, *[list(c) for c in zip(*rows, strict=True)])
        rows, self._pending.rows = self._pending.rows, []
        if rows:
            await self._send(rows)

    async def commit(self) -> None:
        await self._drain()
        if self._db_tx is not None:
            await self._db_tx.commit()
            self._db_tx = None
        if self._base is not None and self._appended:
            self.store._after_commit(self._base, self._sequence, self._hash, self._pending.versions)

    async def rollback(self) -> None:
        if self._inflight is not None:
            task, self._inflight = self._inflight, None
            await asyncio.gather(task, return_exceptions=True)
        if self._db_tx is not None:
            tx, self._db_tx = self._db_tx, None
            await tx.rollback()

    # -- sending -----------------------------------------------------------------------------

    async def _send_chunk_in_background(self) -> None:
        """Pipelining: the server inserts this chunk while we hash the next one (2 cores)."""
        await self.begin()  # several statements: they need the transaction (drains too)
        rows, self._pending.rows = self._pending.rows, []
        self._inflight = asyncio.create_task(self._send(rows))
        await asyncio.sleep(0)  # let the task put the query on the wire before we go on

    async def _drain(self) -> None:
        if self._inflight is not None:
            task, self._inflight = self._inflight, None
            await task

    async def _send(self, rows: list[tuple[Any, ...]]) -> None:
        channel, head = self.store.notify_channel, str(rows[-1][0])
        try:
            if len(rows) == 1:
                await self._conn.execute(_FLUSH_ONE_SQL, *rows[0], channel, head)
            else:
                columns = [list(column) for column in zip(*rows, strict=True)]
                await self._conn.execute(_FLUSH_MANY_SQL, *columns, channel, head)
        except asyncpg.UniqueViolationError as exc:
            self.store._forget_cache()
            if exc.constraint_name == _UNIQUE_SEQUENCE:
                raise OptimismFailed("another writer appended first") from exc
            if exc.constraint_name != _UNIQUE_STREAM_VERSION:
                raise
            if self.optimistic or not self.assume_new_streams:
                raise OptimismFailed("stream version taken") from exc
            raise ConcurrencyConflict(_stream_of(exc), 0, None) from exc

    # -- internals ---------------------------------------------------------------------------

    async def _ensure_base(self) -> None:
        if self._base is not None:
            return
        if self.optimistic and self.store._head is not None:
            self._base, self._hash = self.store._head
        else:
            await self.begin()
            await self._conn.execute("SELECT pg_advisory_xact_lock($1)", LOG_LOCK_KEY)
            # A statement of its own, so that its snapshot is taken after the lock was granted.
            self._base, self._hash = await _read_head(self._conn)
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
        self._pending.rows.append(row)
        self._appended += 1
        self._pending.versions[stream] = version
        self._sequence, self._hash = sequence, digest
        return Recorded(sequence, event_id, stream, version, event.event_type, digest)


async def _read_head(conn: asyncpg.Connection) -> tuple[int, str]:
    row = await conn.fetchrow("SELECT sequence, hash FROM events ORDER BY sequence DESC LIMIT 1")
    return (0, GENESIS_HASH) if row is None else (int(row["sequence"]), str(row["hash"]))


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
        """The last committed (sequence, hash); (0, 64 zeros) for an empty log."""
        async with self.pool.acquire() as conn:
            return await _read_head(conn)

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


_COLUMNS = _EVENT_COLUMNS


def envelopes_to_json_lines(envelopes: Iterable[Envelope]) -> bytes:
    return b"".join(orjson.dumps(e.to_json_dict()) + b"\n" for e in envelopes)
