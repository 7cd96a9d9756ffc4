"""One batch of commands in one transaction: optimistically, else pessimistically.

Each batch first runs *optimistically* (see `libs.events.store`): no head lock, no savepoints.
If any command fails or the flush finds an assumption wrong, the transaction is rolled back
and the batch re-runs *pessimistically*: head locked first, each command in its own SAVEPOINT,
so a failing command leaves no trace and gets its exact error while its neighbours commit.
`CommandWriter` (group commit) and `EventStore.append` run their commands through here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg

from libs.events.records import EventContext, LogOwner, OptimismFailed
from libs.events.transaction import EventTransaction

T = TypeVar("T")
Command = Callable[[EventTransaction], Awaitable[T]]
Outcome = tuple[bool, Any]  # (succeeded, result or exception)

log = logging.getLogger(__name__)


@dataclass
class QueuedCommand:
    command: Command[Any]
    context: EventContext
    future: asyncio.Future[Any] | None = None
    hint: object = None
    claim: object = None


async def execute_batch(
    store: LogOwner, conn: asyncpg.Connection, batch: Sequence[QueuedCommand]
) -> list[Outcome]:
    """Run commands in one transaction: optimistically, else pessimistically with savepoints.

    A pessimistic attempt can still lose a race against another replica's optimistic writer
    (it holds the log lock, they do not take it); it then re-runs on the new head."""
    try:
        return await _attempt(store, conn, batch, optimistic=True)
    except _Retry as retry:
        STATS["pessimistic_reruns"] += 1
        log.debug("batch of %d re-runs pessimistically: %r", len(batch), retry.__cause__)
    for _ in range(_PESSIMISTIC_ATTEMPTS - 1):
        try:
            return await _attempt(store, conn, batch, optimistic=False)
        except _Retry:
            continue
    try:
        return await _attempt(store, conn, batch, optimistic=False)
    except _Retry as retry:  # still losing: the callers get what went wrong
        raise (retry.__cause__ or retry) from None


async def run_alone(store: LogOwner, command: Command[T], context: EventContext) -> T:
    async with store.pool.acquire() as conn:
        ((ok, value),) = await execute_batch(store, conn, [QueuedCommand(command, context)])
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]


_PESSIMISTIC_ATTEMPTS = 5
# Process-wide counters, exported on /metrics.
STATS = {"pessimistic_reruns": 0, "batch_seconds": 0.0}


class _Retry(Exception):
    pass


async def _attempt(
    store: LogOwner, conn: asyncpg.Connection, batch: Sequence[QueuedCommand], optimistic: bool
) -> list[Outcome]:
    tx = EventTransaction(store, conn, optimistic=optimistic)
    tx.hints = [item.hint for item in batch if item.hint is not None]
    tx.claims = [item.claim for item in batch if item.claim is not None]
    try:
        if optimistic:
            outcomes = await _run_optimistically(tx, batch)
        elif len(batch) == 1:
            outcomes = [await _run(tx, batch[0])]
            if not outcomes[0][0]:
                return outcomes  # rolled back in `finally`
        else:
            outcomes = [await _run_in_savepoint(tx, item) for item in batch]
        try:
            await tx.flush()
        except OptimismFailed as exc:
            raise _Retry() from exc
        await tx.commit()
        return outcomes
    finally:
        await tx.rollback()


async def _run_optimistically(
    tx: EventTransaction, batch: Sequence[QueuedCommand]
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for item in batch:
        tx.context = item.context
        try:
            outcomes.append((True, await item.command(tx)))
        except Exception as exc:
            raise _Retry() from exc
    return outcomes


# PostgreSQL aborted the transaction to break a lock cycle with another writer (replicas lock
# blocks in different orders) or a serialization conflict: nothing was wrong with the command,
# so the batch runs again, like after a lost optimistic race.
_TRANSIENT = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)


async def _run(tx: EventTransaction, item: QueuedCommand) -> Outcome:
    tx.context = item.context
    try:
        return True, await item.command(tx)
    except _TRANSIENT as exc:
        raise _Retry() from exc
    except Exception as exc:
        return False, exc


async def _run_in_savepoint(tx: EventTransaction, item: QueuedCommand) -> Outcome:
    mark = await tx.savepoint()
    ok, value = await _run(tx, item)
    if ok:
        await tx.release()
    else:
        await tx.rollback_to(mark)
    return ok, value
