"""Group commit: one writer task per process runs queued commands in shared transactions.

The log's head row is a serialization point, so paying one commit per request would cap a
service at the disk's commit rate. Commands queue while a batch commits; the next batch takes
everything queued (up to `max_batch`) into one transaction, and commands see the effects of
the commands before them.

Each batch first runs *optimistically* (see `libs.events.store`): no head lock, no savepoints.
If any command fails or the flush finds an assumption wrong, the transaction is rolled back
and the batch re-runs *pessimistically*: head locked first, each command in its own SAVEPOINT,
so a failing command leaves no trace and gets its exact error while its neighbours commit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, TypeVar

import asyncpg

from libs.events.batch import STATS, Command, Outcome, QueuedCommand, execute_batch
from libs.events.records import EventContext
from libs.events.store import EventStore

T = TypeVar("T")

log = logging.getLogger(__name__)


class WriterStopped(Exception):
    """The writer is not running (shutting down); the command was not executed."""


class CommandWriter:
    def __init__(self, store: EventStore, max_batch: int = 512) -> None:
        self.store = store
        self.max_batch = max_batch
        self._queue: asyncio.Queue[QueuedCommand] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        # The single writer keeps one connection: no pool acquire/reset round trip per batch.
        self._conn: asyncpg.Connection | None = None
        self.batches = 0
        self.commands = 0

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"writer-{self.store.service}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self._drop_connection()
        while not self._queue.empty():
            item = self._queue.get_nowait()
            _resolve(item, (False, WriterStopped()))

    def submit(
        self,
        command: Command[T],
        context: EventContext | None = None,
        hint: object = None,
        claim: object = None,
    ) -> asyncio.Future[T]:
        """Queue a command now (preserving submission order); await the result later. `hint`
        (service-defined, e.g. the accounts a transfer touches) reaches the batch's
        transaction as `tx.hints`; `claim` (the request's idempotency key) as `tx.claims`, so
        that the batch's first keyed command can look up every key of the batch at once."""
        if self._task is None:
            raise WriterStopped()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(
            QueuedCommand(command, context or EventContext(), future, hint, claim)
        )
        return future

    async def execute(
        self,
        command: Command[T],
        context: EventContext | None = None,
        hint: object = None,
        claim: object = None,
    ) -> T:
        # Shield: a client that disconnects must not cancel a command mid-transaction; the
        # command completes (or not) as a whole either way. A caller cancelled meanwhile never
        # reads the outcome: mark it read, or asyncio logs "exception was never retrieved".
        future = self.submit(command, context, hint, claim)
        future.add_done_callback(_mark_retrieved)
        return await asyncio.shield(future)

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is not None and not _usable(self._conn):
            await self._drop_connection(broken=True)
        if self._conn is None:
            self._conn = await self.store.pool.acquire(timeout=ACQUIRE_TIMEOUT_SECONDS)
        return self._conn

    async def _drop_connection(self, broken: bool = False) -> None:
        """Give the connection back; never raises, so that a database restart cannot end
        the writer's loop (which would leave every later command unanswered)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if broken:  # in an unknown state (e.g. a COMMIT interrupted): never reuse it
                conn.terminate()
            await self.store.pool.release(conn, timeout=ACQUIRE_TIMEOUT_SECONDS)
        except Exception as exc:  # already released, or the pool is closing: nothing to keep
            log.warning("writer could not release its connection: %r", exc)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            started = time.perf_counter()
            try:
                outcomes = await execute_batch(self.store, await self._connection(), batch)
            except asyncio.CancelledError:  # `stop()` mid-batch, and the rollback went through
                for item in batch:
                    _resolve(item, (False, WriterStopped()))
                await self._drop_connection(broken=True)  # a statement may still be running
                raise
            except Exception as exc:  # commit or connection failure: nobody's effects landed
                failure: Exception = exc
                if _cancelling():  # `stop()` interrupted the batch: expected, not an error
                    log.info("writer stopped during a batch of %d; none of it landed", len(batch))
                    failure = WriterStopped()
                else:
                    log.exception("writer batch of %d failed", len(batch))
                outcomes = [(False, failure)] * len(batch)
                await self._drop_connection(broken=True)
            STATS["batch_seconds"] += time.perf_counter() - started
            self.batches += 1
            self.commands += len(batch)
            for item, outcome in zip(batch, outcomes, strict=True):
                _resolve(item, outcome)
            # Not kept while waiting for the next batch: a bulk request's results are ~10^5
            # objects, which the collector would walk until then.
            del batch, outcomes, item, outcome
            # `stop()` cancelled us mid-statement (BEGIN, COMMIT…): asyncpg then refuses the
            # rollback with an InterfaceError, which replaced the CancelledError above. Stop
            # anyway, or `stop()` (and the service's shutdown) would wait for ever.
            if _cancelling():
                return


# How long a batch waits for a connection before its commands get the error (503 to clients).
ACQUIRE_TIMEOUT_SECONDS = 5.0


def _usable(conn: asyncpg.Connection) -> bool:
    try:
        return not conn.is_closed()
    except asyncpg.InterfaceError:  # a proxy the pool took back (e.g. after a restart)
        return False


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _resolve(item: QueuedCommand, outcome: Outcome) -> None:
    future = item.future
    if future is None or future.done():
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def _mark_retrieved(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
