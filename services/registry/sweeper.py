"""Background loop releasing expired holds (an expired hold releases itself)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from typing import Any

from libs.events.store import EventContext
from libs.servicekit.runtime import Runtime
from services.registry import holds

log = logging.getLogger(__name__)


async def sweep_expired_holds(runtime: Runtime, interval: float) -> None:
    while True:
        try:
            released = await runtime.writer.execute(
                holds.release_expired, EventContext(actor="system")
            )
            if released:
                log.info("released %d expired hold(s)", released)
        except Exception:
            log.exception("hold-expiry sweep failed; retrying")
        await asyncio.sleep(interval)


def tasks(runtime: Runtime) -> Sequence[Coroutine[Any, Any, None]]:
    interval = float(getattr(runtime.settings, "hold_sweep_seconds", 5.0))
    return [sweep_expired_holds(runtime, interval)]
