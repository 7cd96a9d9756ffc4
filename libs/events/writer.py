"""Group commit: one writer task per process runs queued commands in shared transactions.

The log's head row is a serialization point, so paying one commit per request would cap a
service at the disk's commit rate. Commands queue while a batch commits; the next batch takes
everything queued (up to `max_batch`) into one transaction. Each command runs inside its own
SAVEPOINT when the batch has several, so a command that fails leaves no trace while its
neighbours commit. Commands see the effects of the commands before them in the batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from libs.events.store import EventContext, EventStore, EventTransaction

T = TypeVar("T")
Command = Callable[[EventTransaction], Awaitable[T]]

log = logging.getLogger(__name__)


class WriterStopped(Exception):
    """The writer is not running (shutting down); the command was not executed."""


@dataclass
class _Queued:
    command: Command[Any]
    context: EventContext
    future: asyncio.Future[Any]


class CommandWriter:
    def __init__(self, store: EventStore, max_batch: int = 512) -> None:
        self.store = store
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Queued] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
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
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if not item.future.done():
                item.future.set_exception(WriterStopped())

    def submit(self, command: Command[T], context: EventContext | None = None) -> Awaitable[T]:
        """Queue a command now (preserving submission order); await the result later."""
        if self._task is None:
            raise WriterStopped()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Queued(command, context or EventContext(), future))
        return future

    async def execute(self, command: Command[T], context: EventContext | None = None) -> T:
        # Shield: a client that disconnects must not cancel a command mid-transaction; the
        # command completes (or not) as a whole either way.
        return await asyncio.shield(self.submit(command, context))

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._execute(batch)
            except _RolledBack:
                pass
            except Exception as exc:  # commit or connection failure: nobody's effects landed
                log.exception("writer batch of %d failed", len(batch))
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(exc)

    async def _execute(self, batch: list[_Queued]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        async with self.store.pool.acquire() as conn:
            async with conn.transaction():
                tx = EventTransaction(self.store, conn)
                if len(batch) == 1:
                    outcomes.append(await self._run_alone(tx, batch[0]))
                    if not outcomes[0][0]:
                        raise _RolledBack()
                else:
                    for item in batch:
                        outcomes.append(await self._run_in_savepoint(tx, item))
                await tx.flush()
            tx.committed()
        self.batches += 1
        self.commands += len(batch)
        for item, (ok, value) in zip(batch, outcomes, strict=True):
            _resolve(item.future, ok, value)

    async def _run_alone(self, tx: EventTransaction, item: _Queued) -> tuple[bool, Any]:
        tx.context = item.context
        try:
            return True, await item.command(tx)
        except Exception as exc:
            _resolve(item.future, False, exc)
            return False, exc

    async def _run_in_savepoint(self, tx: EventTransaction, item: _Queued) -> tuple[bool, Any]:
        mark = tx.savepoint()
        tx.context = item.context
        await tx.conn.execute("SAVEPOINT command")
        try:
            result = await item.command(tx)
        except Exception as exc:
            await tx.conn.execute("ROLLBACK TO SAVEPOINT command")
            tx.rollback_to(mark)
            return False, exc
        await tx.conn.execute("RELEASE SAVEPOINT command")
        return True, result


class _RolledBack(Exception):
    """Internal: the only command of a batch failed; its exception is already delivered."""


def _resolve(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
