"""The market's clock and the legs it frees: a background process beside the settlement one.

Each pass, as of the injected clock: block quotes whose window ended expire; auctions whose
bidding closed are called (`auction_call.allocate`); spare legs — of superseded or ended block
offers, of called auctions and their bids — are released once no settling trade uses them,
then recorded (`LegReleased`). Every step is idempotent, so a crash anywhere only repeats it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from libs.events.contract.matching import LegReleased
from libs.events.store import EventContext, EventTransaction
from libs.servicekit.runtime import Runtime
from services.matching import auction_call, auctions_store, block, block_store, legs_store
from services.matching.market import Market
from services.matching.upstream import NoAnswer, Refusal

log = logging.getLogger(__name__)
CONTEXT = EventContext(actor="matching/clock")
BATCH = 100


class MarketClock:
    def __init__(self, runtime: Runtime, market: Market, interval_seconds: float) -> None:
        self.runtime = runtime
        self.market = market
        self.interval = interval_seconds

    async def run_forever(self) -> None:
        while True:
            try:
                busy = await self.expire_quotes() + await self.call_auctions()
                busy += await self.release_spare_legs()
            except Exception:
                log.exception("market clock pass failed")
                busy = 0
            if busy == 0:  # polls: nothing here is urgent to the second
                await asyncio.sleep(self.interval)

    async def expire_quotes(self) -> int:
        now = self.market.now()
        due = await block_store.expired_quotes(self.runtime.pool, now, BATCH)
        for quote_id in due:
            await self.runtime.writer.execute(_expiring(quote_id, now), CONTEXT)
        return len(due)

    async def call_auctions(self) -> int:
        due = await auctions_store.due_auctions(self.runtime.pool, self.market.now(), BATCH)
        for auction_id in due:
            await self.runtime.writer.execute(_calling(self.market, auction_id), CONTEXT)
            log.info("auction %s called", auction_id)
        if due:
            self.market.wake.set()  # its trades settle at once
        return len(due)

    async def release_spare_legs(self) -> int:
        released = 0
        for leg in await legs_store.releasable_legs(self.runtime.pool, BATCH):
            try:
                await self._release(leg)
            except NoAnswer as exc:
                log.warning("leg %s waits for its release: %s", leg["id"], exc)
                continue
            await self.runtime.writer.execute(_released(leg["id"]), CONTEXT)
            released += 1
        return released

    async def _release(self, leg: dict[str, Any]) -> None:
        try:
            if leg["hold_id"]:
                await self.market.registry.release(leg["hold_id"], f"release-{leg['id']}")
            if leg["reservation_id"]:
                await self.market.settlement.release(leg["reservation_id"])
        except Refusal as refusal:  # used up by its trade, or released already
            log.info("leg %s: %s", leg["id"], refusal)


def _expiring(quote_id: str, now: Any) -> Any:
    async def command(tx: EventTransaction) -> None:
        await block.expire(tx, quote_id, now)

    return command


def _calling(market: Market, auction_id: str) -> Any:
    async def command(tx: EventTransaction) -> None:
        await auction_call.allocate(tx, market, auction_id)

    return command


def _released(leg_id: str) -> Any:
    async def command(tx: EventTransaction) -> None:
        if await legs_store.mark_leg_released(tx, leg_id):
            await tx.append(f"leg/{leg_id}", 0, [LegReleased(leg_id=leg_id)])

    return command
