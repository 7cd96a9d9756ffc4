"""Bounded shutdown: a client that never finishes stopping must not keep a process from exiting.

Every step of a service's stop (Kafka clients, background tasks, the database pool) runs
through `within`: it gets a deadline, and if it overruns it is abandoned with a warning that
says where it was waiting (`await_chain`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable
from typing import Any

log = logging.getLogger(__name__)

STEP_SECONDS = 10.0


async def within(what: str, step: Awaitable[Any], seconds: float = STEP_SECONDS) -> bool:
    """Await one shutdown step for at most `seconds`; False if it failed or was abandoned.

    The step runs as its own task and is only asked to cancel on overrun, never awaited
    again: `asyncio.wait_for` would wait for ever on a step that swallows its cancellation.
    """
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        log.warning(
            "%s did not finish within %g s; abandoned while waiting at:\n%s",
            what,
            seconds,
            "".join(await_chain(task)),
        )
        task.cancel()
        return False
    if task.cancelled():
        return False
    error = task.exception()
    if error is not None:
        log.warning("%s failed: %s: %s", what, type(error).__name__, error)
        return False
    return True


async def cancel_all(tasks: Iterable[asyncio.Task[Any]], seconds: float = STEP_SECONDS) -> None:
    """Cancel background tasks and wait (bounded) for them to finish their cleanup."""
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    if not pending:
        return
    _, stuck = await asyncio.wait(pending, timeout=seconds)
    for task in stuck:
        log.warning(
            "task %s still running %g s after its cancellation; abandoned at:\n%s",
            task.get_name(),
            seconds,
            "".join(await_chain(task)),
        )


def await_chain(task: asyncio.Future[Any]) -> list[str]:
    """Where a suspended task waits: each coroutine of its await chain, outermost first."""
    if not isinstance(task, asyncio.Task):
        return [f"  {task!r}\n"]
    lines: list[str] = []
    awaited: Any = task.get_coro()
    for _ in range(100):
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "ag_frame", None)
        if frame is None:
            lines.append(f"  awaiting {awaited!r}\n")
            break
        lines.append(f"  {frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}\n")
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "ag_await", None)
        if awaited is None:
            break
    return lines
