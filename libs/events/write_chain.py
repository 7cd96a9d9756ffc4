"""The writes one transaction sends ahead: a chain of tasks on its one connection.

A connection runs one statement at a time, so each write waits for the one before it; a write
queued behind a busy server is ready to go the moment that one is done, and never goes at all
if it failed (the transaction is lost anyway). Waiting for the chain raises the first failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

Write = Callable[[], Awaitable[None]]


class WriteChain:
    def __init__(self) -> None:
        self._last: asyncio.Task[None] | None = None  # finishes after every write before it
        self.queued = 0  # writes waiting behind the one on the wire

    def busy(self) -> bool:
        """Whether the server is still writing."""
        return self._last is not None and not self._last.done()

    def send(self, write: Write) -> None:
        """Start `write` now (the chain is idle: drained, or its last write done)."""
        self._last = asyncio.create_task(_run(write))

    def queue(self, write: Write) -> None:
        """Start `write` once every write before it has succeeded."""
        assert self._last is not None
        self.queued += 1
        self._last = asyncio.create_task(self._after(self._last, write))

    async def drain(self) -> None:
        """Wait for every write; raises the first one's failure."""
        if self._last is not None:
            last, self._last = self._last, None
            await last

    async def settle(self) -> None:
        """Wait for every write, their outcome no longer wanted (rolled back anyway)."""
        if self._last is not None:
            last, self._last = self._last, None
            await asyncio.gather(last, return_exceptions=True)

    async def _after(self, previous: asyncio.Task[None], write: Write) -> None:
        try:
            await previous  # raises its failure: `write` is not sent
        finally:
            self.queued -= 1
        await write()


async def _run(write: Write) -> None:
    await write()
