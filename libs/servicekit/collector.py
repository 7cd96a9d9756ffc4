"""Garbage-collector settings for a long-running service process.

Measured on the registry (bench/registry.py): with CPython's defaults a full collection walked
every object the app had built at start-up (FastAPI routes, pydantic schemas, modules) and
paused the event loop for 70–115 ms every few seconds — the whole p99 of the transfer endpoint.
Objects alive once start-up is over live as long as the process, so they are moved out of the
collector's sight (`gc.freeze`), and young collections run less often: most request garbage is
freed by reference counting anyway; the collector is only needed for cycles.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from starlette.types import ASGIApp, Receive, Scope, Send

YOUNG_THRESHOLD = 20_000  # allocations between young collections (CPython's default: 700)


def settle_after_startup() -> None:
    """Collect once, then freeze everything alive: later full collections skip it."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


def release_at_shutdown() -> None:
    """Give the frozen objects back to the collector (tests start many apps in one process)."""
    gc.unfreeze()


_pauses = 0


@contextmanager
def paused() -> Iterator[None]:
    """No cycle collection while a large request builds its ~10^5 short-lived objects (a bulk
    request of 10,000 transfers spent 45–70 ms in collections that found nothing to free);
    they are freed by reference counting, and the collector resumes when the last pause ends.
    Nested and concurrent pauses are counted."""
    global _pauses
    if _pauses == 0 and not gc.isenabled():
        yield  # disabled by someone else: not ours to re-enable
        return
    _pauses += 1
    gc.disable()
    try:
        yield
    finally:
        _pauses -= 1
        if _pauses == 0:
            gc.enable()


class PausedCollectionMiddleware:
    """Pauses the collector for the whole of a request to one of `paths` — body parsing,
    command, response — so that it does not walk the request's objects while they are alive."""

    def __init__(self, app: ASGIApp, paths: frozenset[str]) -> None:
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        with paused():
            await self.app(scope, receive, send)
