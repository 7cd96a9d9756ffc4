"""`EventTransaction`: the event-log side of one database transaction (see `libs.events.store`).

Appends are buffered and sent in pipelined chunks; `flush` writes what is left in one round trip.
The connection is reached through the transaction's query methods, which open the database
transaction lazily, so a command that only appends commits as a single autocommit statement.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg
from asyncpg.transaction import Transaction

from libs.events.catalog import Payload
from libs.events.envelope import format_time
from libs.events.event_rows import ROW_HASH, ROW_ID, EventRows
from libs.events.flush_sql import Deferred, Parts, Table, flush_statement
from libs.events.records import (
    ANY_VERSION,
    ConcurrencyConflict,
    EventContext,
    LogOwner,
    OptimismFailed,
    Recorded,
    lost_race,
    read_head,
)
from libs.events.unit_of_work import UnitOfWork
from libs.events.write_chain import WriteChain

W = TypeVar("W", bound=UnitOfWork)


@dataclass
class _Pending:
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)


# One lock for the whole log, held by pessimistic transactions until they end.
LOG_LOCK_KEY = 0x74616E68  # "tanh"
# Events buffered before a chunk is sent ahead while the transaction goes on; each further
# chunk of the same transaction may be twice as large, up to PIPELINE_CHUNK_MAX (fewer
# statements for a large transaction, a short unpipelined tail for a small one).
PIPELINE_CHUNK = 64
PIPELINE_CHUNK_MAX = 512
# A chunk is due while the server still writes the last one: it is queued behind that one,
# collected and ready (one at most), and the commands go on computing (looking at the loop
# every PIPELINE_RECHECK events) instead of waiting, up to this many buffered.
PIPELINE_BACKLOG_MAX = 4 * PIPELINE_CHUNK_MAX
PIPELINE_RECHECK = 32


class EventTransaction:
    """The event-log side of one database transaction, and the command's way to the database."""

    def __init__(
        self,
        store: LogOwner,
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
        self._deferred: Deferred = {}
        self._statements: Parts = []  # `defer_statement`
        self._chain = WriteChain()  # the chunks sent ahead
        self._chunk = PIPELINE_CHUNK
        self._check_at = PIPELINE_CHUNK  # buffered events at which to send (or look again)
        self._work: dict[str, UnitOfWork] = {}
        # What the commands of this transaction said they will touch (`CommandWriter.submit`'s
        # `hint`), so that the first command can read for all of them in one round trip.
        self.hints: list[object] = []
        self.claims: list[object] = []  # the batch's idempotency claims (`CommandWriter.submit`)
        # One timestamp per transaction: the events of one transaction happen together.
        self._now: str | None = None  # RFC 3339, as hashed and as stored
        self._rows = EventRows(store.source)  # each event's row and chained hash

    # -- the database, opened lazily ---------------------------------------------------------

    async def begin(self) -> asyncpg.Connection:
        await self._chain.drain()
        if self._db_tx is None:
            self._db_tx = self._conn.transaction()
            await self._db_tx.start()
            if not self.optimistic or (self._base is None and self.store.cache.head is None):
                # Pessimistic, or optimistic without a head to build on (the process's first
                # batch, or the head forgotten after a lost race): it will lock at its first
                # append anyway — lock now, so that what it reads is the state at that head.
                await self._lock_log()
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
        self, stream: str, expected_version: int, events: Sequence[Payload]
    ) -> list[Recorded]:
        """Append `events` to `stream` if it is at `expected_version` (ANY_VERSION: no check)."""
        if not events:
            return []
        if self._base is None:
            await self._ensure_base()
        current = self._known_version(stream, expected_version)  # the hot path
        if current is None:
            current = await self._stream_version(stream, expected_version)
        recorded = self._record_all(stream, expected_version, current, events)
        if len(self._pending.rows) >= self._check_at:
            await self._flush_when_free()
        return recorded

    def _record_all(
        self, stream: str, expected_version: int, current: int, events: Sequence[Payload]
    ) -> list[Recorded]:
        if expected_version != ANY_VERSION and current != expected_version:
            if self.optimistic:
                raise OptimismFailed(stream)  # the cache may be stale: decide under the lock
            raise ConcurrencyConflict(stream, expected_version, current)
        if self._now is None:
            self._now = format_time(datetime.now(UTC))
        now = self._now
        if len(events) == 1:  # most commands: without a comprehension's function call
            return [self._record(stream, current + 1, events[0], now)]
        return [self._record(stream, current + i, event, now) for i, event in enumerate(events, 1)]

    def work(self, key: str, factory: Callable[[], W]) -> W:
        """This transaction's unit of work under `key`, created on first use. It is flushed
        before the deferred rows and the events, and dropped by `rollback_to`."""
        found = self._work.get(key)
        if found is None:
            found = self._work[key] = factory()
        return found  # type: ignore[return-value]

    def take_kept(self, key: str) -> object | None:
        """What a unit of work of this process kept under `key` at its last commit, if this
        transaction can build on the head it is the state at: the transaction is optimistic, has
        not appended yet, and that head is still the process's. The transaction then builds on
        that head. Whatever anybody else wrote since shows as a collision at the first write,
        and the batch re-runs pessimistically, reading from the database — the same proof that
        lets an optimistic transaction use the process's head and stream versions. Taken, not
        shared: state of a transaction that does not commit is never used again."""
        cache = self.store.cache
        left = cache.take_kept(key)
        if left is None or not self.optimistic or self._appended:
            return None
        head, value = left
        if cache.head != head or self._base not in (None, head[0]):
            return None
        self._base, self._hash = head
        self._sequence = self._base
        cache.kept_used += 1
        return value

    def defer_rows(self, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
        """Write `rows` to `table` at flush time (inserted, or upserted if it has a key)."""
        if rows:
            self._deferred.setdefault(table, []).extend(rows)

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
        await self._chain.settle()
        await self._conn.execute("ROLLBACK TO SAVEPOINT command")
        self._sequence, self._hash, self._appended, self._pending.versions = mark
        self._pending.rows.clear()
        self._deferred.clear()  # everything deferred before the savepoint was flushed by it
        self._statements.clear()
        self._work.clear()  # in-memory state since the savepoint: read again from the database

    def defer_statement(self, statement: str, args: Sequence[Any]) -> None:
        """Run a data-modifying `statement` (no WITH of its own) at flush time, as one part of
        the flush's single statement."""
        self._statements.append((statement, list(args)))

    async def flush(self) -> None:
        """Write the units of work, deferred rows and buffered events — in one statement, each
        write a data-modifying CTE of it, so a whole batch costs one round trip here. Raises
        ConcurrencyConflict or OptimismFailed."""
        await self._chain.drain()
        parts, deferred, rows = self._collect()
        if parts or deferred:
            await self.begin()  # more than one write: they need the transaction
        await self._write(flush_statement(parts, deferred, rows, self.store.notify_channel))

    async def send_ahead(self) -> None:
        """Send everything buffered, as soon as the server has written what is before it, and
        return: a caller with more to compute before the commit (a bulk request's response)
        does it meanwhile, looking at the loop now and then. The flush at commit waits for
        this chunk and raises what it raised."""
        if self._chain.busy():
            self._queue_behind()
        else:
            await self._flush_in_background()

    async def commit(self) -> None:
        await self._chain.drain()
        if self._db_tx is not None:
            await self._db_tx.commit()
            self._db_tx = None
        if self._base is not None and self._appended:
            self.store.cache.after_commit(
                self._base, self._sequence, self._hash, self._pending.versions
            )
        self._keep()

    def _keep(self) -> None:
        """After the commit: what the units of work keep for the next transaction, as the state
        at the head this one committed (or built on, if it appended nothing)."""
        if self._base is None:
            return  # never chose a head: the state it read is not known to be at one
        head = (self._sequence, self._hash)
        for key, work in self._work.items():
            value = work.kept()
            if value is not None:
                self.store.cache.keep(key, head, value)

    async def rollback(self) -> None:
        await self._chain.settle()
        if self._db_tx is not None:
            tx, self._db_tx = self._db_tx, None
            await tx.rollback()

    # -- sending -----------------------------------------------------------------------------

    async def _flush_when_free(self) -> None:
        """Send the buffered chunk if the server is free. If it is still writing, queue a full
        chunk behind what it writes, collected and ready, unless one waits there already; and
        go on computing, looking at the loop every PIPELINE_RECHECK events (which sends a
        queued chunk as soon as the server is done), up to PIPELINE_BACKLOG_MAX buffered.
        Waiting left this core idle; and a chunk collected only once the server was done left
        the server idle while it was collected (2–4 ms a chunk)."""
        if self._chain.busy():
            await asyncio.sleep(0)  # the loop takes in the server's answer if it has come
            buffered = len(self._pending.rows)
            if self._chain.busy() and buffered < PIPELINE_BACKLOG_MAX:
                if not self._chain.queued and buffered >= self._chunk:
                    self._queue_behind()
                    buffered = 0
                self._check_at = buffered + PIPELINE_RECHECK
                return
        await self._flush_in_background()

    def _queue_behind(self) -> None:
        """Collect the buffered chunk now and send it when the chunks before it are written
        (the transaction was begun by the first of them)."""
        statement = self._collected_statement()
        self._chain.queue(lambda: self._write(statement))
        self._chunk = min(2 * self._chunk, PIPELINE_CHUNK_MAX)

    async def _flush_in_background(self) -> None:
        """Pipelining: the server writes this chunk — events, deferred rows and the units of
        work's changes so far — while the commands go on computing the next (2 cores)."""
        await self.begin()  # several statements: they need the transaction (drains too)
        statement = self._collected_statement()
        self._chain.send(lambda: self._write(statement))
        self._chunk = self._check_at = min(2 * self._chunk, PIPELINE_CHUNK_MAX)
        await asyncio.sleep(0)  # let the task put the query on the wire before we go on

    def _collect(self) -> tuple[Parts, Deferred, list[tuple[Any, ...]]]:
        """Take everything buffered: `(statements, deferred rows, event rows)`."""
        for work in list(self._work.values()):
            work.flush(self)
        parts, self._statements = self._statements, []
        deferred, self._deferred = self._deferred, {}
        rows, self._pending.rows = self._pending.rows, []
        return parts, deferred, rows

    def _collected_statement(self) -> tuple[str, list[Any]] | None:
        """The statement writing everything buffered (`_collect`), taken now."""
        return flush_statement(*self._collect(), self.store.notify_channel)

    async def _write(self, statement: tuple[str, list[Any]] | None) -> None:
        """Execute a flush's statement, if it has one (the transaction is open if it writes
        more than events)."""
        if statement is not None:
            await self._execute_checked(*statement)

    async def _execute_checked(self, sql: str, args: list[Any]) -> None:
        await self._checked(self._conn.execute(sql, *args))

    async def _checked(self, inserting_events: Awaitable[Any]) -> None:
        """Await a write that inserts events: a taken sequence or stream version means
        another writer went first."""
        try:
            await inserting_events
        except asyncpg.UniqueViolationError as exc:
            self.store.cache.forget()
            lost = lost_race(exc, decide_now=not self.optimistic and self.assume_new_streams)
            if lost is not None:
                raise lost from exc
            if self.optimistic:  # a key taken meanwhile (an idempotency key, …): decide exactly
                raise OptimismFailed(f"unique key taken: {exc.constraint_name}") from exc
            raise

    # -- internals ---------------------------------------------------------------------------

    async def _ensure_base(self) -> None:
        if self._base is not None:
            return
        head = self.store.cache.head
        if self.optimistic and head is not None:
            self._base, self._hash = head
            self._sequence = self._base
            return
        await self.begin()  # a pessimistic transaction locks the log as it begins
        if self._base is None:
            await self._lock_log()

    async def _lock_log(self) -> None:
        """Take the log lock and read the head this transaction builds on. A pessimistic
        transaction does this before its first statement, so everything it reads is the state
        at that head: blocks it reads without row locks (merge partners) cannot be changed
        under it by a transaction that commits before its own appends."""
        await self._conn.execute("SELECT pg_advisory_xact_lock($1)", LOG_LOCK_KEY)
        # A statement of its own, so that its snapshot is taken after the lock was granted.
        self._base, self._hash = await read_head(self._conn)
        self.store.cache.validate(self._base, self._hash)
        self._sequence = self._base

    def _known_version(self, stream: str, expected: int) -> int | None:
        """The stream's version as this transaction or process already knows it, without a
        query (None: ask the database)."""
        known = self._pending.versions.get(stream)
        if known is None:
            known = self.store.cache.stream_version(stream)
        if known is None and expected == 0 and self.assume_new_streams:
            return 0  # assumed new; the unique index on (stream, stream_version) has the last word
        return known

    async def _stream_version(self, stream: str, expected: int) -> int:
        known = self._known_version(stream, expected)
        if known is not None:
            return known
        version = await self.fetchval(
            "SELECT max(stream_version) FROM events WHERE stream = $1", stream
        )
        return int(version or 0)

    def _record(self, stream: str, version: int, event: Payload, now: str) -> Recorded:
        sequence = self._sequence + 1
        row = self._rows.row(self.context, now, sequence, stream, version, event, self._hash)
        self._pending.rows.append(row)
        self._appended += 1
        self._pending.versions[stream] = version
        digest = row[ROW_HASH]
        self._sequence, self._hash = sequence, digest
        return Recorded(sequence, row[ROW_ID], stream, version, event.event_type, digest)
