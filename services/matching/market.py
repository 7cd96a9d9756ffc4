"""The market's connections and clock, shared by the endpoints and the settlement process."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import Request

from services.matching.books import Books
from services.matching.instruments import PreviousCloses
from services.matching.registry_client import Registry
from services.matching.settlement import SettlementSystem


def utc_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Market:
    registry: Registry
    settlement: SettlementSystem
    clock: Callable[[], datetime] = utc_clock  # injected: tests trade in any session at any hour
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # a trade waits to settle
    books: Books = field(default_factory=lambda: Books())
    closes: PreviousCloses = field(default_factory=dict)  # see `instruments.terms_in_force`

    def now(self) -> datetime:
        return self.clock()

    async def keep_connections(self) -> None:
        """A background task: the upstream connections live until the service stops."""
        try:
            await asyncio.Event().wait()
        finally:
            await self.registry.client.aclose()
            await self.settlement.client.aclose()


def market_of(request: Request) -> Market:
    market: Market = request.app.state.market
    return market


def derived_id(prefix: str, org: str, key: str | None) -> str:
    """An id fixed by the caller's Idempotency-Key, so that a retried request reaches the same
    listing or trade — and the same escrow and reservation — as the first attempt."""
    if key is None:
        return f"{prefix}-{uuid.uuid4().hex[:20].upper()}"
    digest = hashlib.sha256(f"{org}\n{key}".encode()).hexdigest()[:20].upper()
    return f"{prefix}-{digest}"
