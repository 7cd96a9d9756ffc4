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
