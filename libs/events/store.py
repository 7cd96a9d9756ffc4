"""Postgres event store (the `libs.events.log.EventLog` contract, and transactions): `append`
inside the caller's transaction, reads by stream and position.

Appends are buffered per transaction; `flush` writes them in one round trip (one INSERT and a
NOTIFY for the relay). Sequence numbers and hashes are assigned at `append` time, counting on
from the head the transaction builds on, so callers can use them in their projections. The
primary key on `sequence` is the compare-and-set that proves that head was current (see
`libs.events.schema`).

Two modes (see `EventTransaction`):
- *pessimistic*: the transaction takes the log's advisory transaction lock before its first
  statement and reads the head, so all it reads is the state at that head; it reads the
  versions of streams it does not know; errors surface at the `append` call.
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
import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager

import asyncpg
import orjson

from libs.events.batch import run_alone
from libs.events.catalog import Payload
from libs.events.envelope import Envelope, format_time
from libs.events.head_cache import HeadCache
from libs.events.records import (
    ANY_VERSION,
    EVENT_COLUMNS,
    NOTIFY_CHANNEL,
    ConcurrencyConflict,
    EventContext,
    OptimismFailed,
    Queryable,
    Recorded,
    read_head,
)
from libs.events.sessions import session_changed
from libs.events.transaction import EventTransaction

__all__ = [
    "ANY_VERSION",
    "NOTIFY_CHANNEL",
    "ConcurrencyConflict",
    "EventContext",
    "EventStore",
    "EventTransaction",
    "OptimismFailed",
    "Queryable",
    "Recorded",
    "envelopes_to_json_lines",
]


class EventStore:
    """One service's log. `source` is `tanhui/<service>`."""

    def __init__(
        self, pool: asyncpg.Pool, service: str, notify_channel: str = NOTIFY_CHANNEL
    ) -> None:
        self.pool = pool
        self.service = service
        self.source = f"tanhui/{service}"
        self.notify_channel = notify_channel
        self.cache = HeadCache()  # what this process knows of its log between transactions

    @asynccontextmanager
    async def transaction(
        self, context: EventContext | None = None
    ) -> AsyncIterator[EventTransaction]:
        """A pessimistic transaction: the log is locked before its first statement; flushed at
        exit.

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
        events: Sequence[Payload],
        context: EventContext | None = None,
    ) -> list[Recorded]:
        """Append in a transaction of its own (optimistic first: one round trip)."""

        async def command(tx: EventTransaction) -> list[Recorded]:
            return await tx.append(stream, expected_version, events)

        return await run_alone(self, command, context or EventContext())

    async def head(self) -> tuple[int, str]:
        """The last committed (sequence, hash); (0, 64 zeros) for an empty log."""
        async with self.pool.acquire() as conn:
            return await read_head(conn)

    async def read_stream(self, stream: str, after_version: int = 0) -> list[Envelope]:
        rows = await self.pool.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream = $1 AND stream_version > $2"
            " ORDER BY stream_version",
            stream,
            after_version,
        )
        return [self.envelope(row) for row in rows]

    async def read_stream_after(self, stream: str, sequence: int, limit: int) -> list[Envelope]:
        """A page of one stream's events after the log position `sequence`."""
        rows = await self.pool.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream = $1 AND sequence > $2"
            " ORDER BY stream_version LIMIT $3",
            stream,
            sequence,
            limit,
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

    async def subscribe(self, after: int = 0, poll_seconds: float = 1.0) -> AsyncIterator[Envelope]:
        """Every event after `after`, then each one as it commits (woken by the append's
        NOTIFY, with a poll as a fallback). Holds one pooled connection while iterated."""
        woken = asyncio.Event()

        def wake(*_: object) -> None:
            woken.set()

        async with self.pool.acquire() as conn:
            session_changed(conn)  # LISTEN: reset in full when released
            await conn.add_listener(self.notify_channel, wake)
            try:
                position = after
                while True:
                    woken.clear()
                    batch = await self.read_after(position)
                    for envelope in batch:
                        yield envelope
                    if batch:
                        position = batch[-1].sequence
                        continue
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(poll_seconds):
                            await woken.wait()
            finally:
                with contextlib.suppress(asyncpg.InterfaceError, asyncpg.PostgresError, OSError):
                    await conn.remove_listener(self.notify_channel, wake)

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

    @property
    def kept_used(self) -> int:
        """Transactions that built on state a unit of work kept (exported on /metrics)."""
        return self.cache.kept_used

    def kept_at(self, key: str) -> tuple[int, str] | None:
        return self.cache.kept_at(key)


_COLUMNS = EVENT_COLUMNS


def envelopes_to_json_lines(envelopes: Iterable[Envelope]) -> bytes:
    return b"".join(orjson.dumps(e.to_json_dict()) + b"\n" for e in envelopes)
