"""Delivery versus payment: the process manager that settles every executed trade.

Driven by the matching log's projection (`trades` with status `executed`), it runs after a
crash exactly where it was, because every step is idempotent by a key derived from the trade:

1. units: the seller's escrow is executed to the buyer's registry account *still held by the
   market* (`keep_held`), so the buyer cannot move them yet;
2. cash: the settlement system moves the amount from the buyer's reservation to the seller;
   a call left unanswered is voided before anything is undone (a void either wins — the cash
   will never move — or finds the settlement done);
3. final: the delivery hold is executed to the buyer's own account; `TradeSettled`.

A refused step unwinds what was done — units back to the seller's account (or still in the
escrow when step 1 was refused), the taker's own reservation or escrow released — and appends
`TradeFailed`; the listing offers again what is still secured for it. No answer at all leaves
the trade `executed` and it is tried again (after `retry_seconds`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Sequence
from typing import Any

from libs.events.contract.matching import (
    ListingReleased,
    OrderReleased,
    TradeFailed,
    TradeSettled,
)
from libs.events.store import ANY_VERSION, EventContext, EventTransaction
from libs.servicekit.runtime import Runtime
from services.matching import legs_store, orders_store, store
from services.matching.closing import MarketClock
from services.matching.market import Market
from services.matching.settlement import reservation_id, settlement_id
from services.matching.upstream import NoAnswer, Refusal

log = logging.getLogger(__name__)
CONTEXT = EventContext(actor="matching/settlement")
CONCURRENCY = 32  # trades settling at once


class Unwound(Exception):
    def __init__(self, leg: str, reason: str) -> None:
        super().__init__(reason)
        self.leg, self.reason = leg, reason


class Settlement:
    def __init__(
        self, runtime: Runtime, market: Market, retry_seconds: float, abandon_after: float
    ) -> None:
        self.runtime = runtime
        self.market = market
        self.retry_seconds = retry_seconds
        self.abandon_after = abandon_after

    async def run_forever(self) -> None:
        while True:
            self.market.wake.clear()
            try:
                busy = await self.settle_pending()
                busy += await self.release_withdrawn()
                busy += await self.release_closed_orders()
                busy += await self.release_abandoned()
            except Exception:
                log.exception("settlement pass failed")
                busy = 0
            if busy == 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.retry_seconds):
                        await self.market.wake.wait()

    async def settle_pending(self) -> int:
        """One pass over the executed trades, `CONCURRENCY` at a time (trades are independent:
        two sharing an escrow or a reservation are serialised by the registry and the
        settlement system); the number closed."""
        trades = await store.unsettled_trades(self.runtime.pool, 1000)
        slots = asyncio.Semaphore(CONCURRENCY)

        async def one(trade: dict[str, Any]) -> int:
            async with slots:
                return await self._settle_one(trade)

        outcomes = await asyncio.gather(*(one(t) for t in trades), return_exceptions=True)
        for trade, outcome in zip(trades, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                log.error("trade %s: %r", trade["id"], outcome)
        return sum(o for o in outcomes if isinstance(o, int))

    async def _settle_one(self, trade: dict[str, Any]) -> int:
        try:
            delivered = await self.settle(trade)
            event: TradeSettled | TradeFailed = TradeSettled(
                trade_id=trade["id"], delivered_hold_id=delivered
            )
        except Unwound as failure:
            event = TradeFailed(trade_id=trade["id"], leg=failure.leg, reason=failure.reason)
        except NoAnswer as exc:
            log.warning("trade %s waits: %s", trade["id"], exc)
            return 0
        await self._close(trade, event)
        return 1

    async def settle(self, trade: dict[str, Any]) -> str:
        """Steps 1–3; the delivery hold. Raises `Unwound` after undoing a refused step."""
        key = trade["id"]
        registry = self.market.registry
        try:
            delivery = await registry.execute(
                trade["seller_hold_id"],
                trade["buyer_registry_account"],
                trade["quantity"],
                keep_held=True,
                key=f"dvp-{key}-deliver",
            )
        except Refusal as refusal:
            await self._release_taker_leg(trade, units_delivered=False)
            raise Unwound("units", f"registry: {refusal}") from None
        delivered = str(delivery["delivered_hold_id"])
        try:
            await self._pay(trade)
        except Refusal as refusal:
            await registry.execute(
                delivered,
                trade["seller_registry_account"],
                None,
                keep_held=False,
                key=f"dvp-{key}-return",
            )
            await self._release_taker_leg(trade, units_delivered=True)
            raise Unwound("cash", f"settlement: {refusal}") from None
        await registry.execute(
            delivered,
            trade["buyer_registry_account"],
            None,
            keep_held=False,
            key=f"dvp-{key}-final",
        )
        return delivered

    async def _pay(self, trade: dict[str, Any]) -> None:
        """The cash leg; an unanswered call is voided, so that `Refusal` means it never moved."""
        cash = self.market.settlement
        settlement = settlement_id(trade["id"])
        amount = trade["price"] * trade["quantity"]
        try:
            await cash.settle(
                settlement, trade["buyer_reservation_id"], trade["seller_cash_account"], amount
            )
        except NoAnswer as exc:
            log.warning("trade %s: no answer to the cash leg (%s): voiding it", trade["id"], exc)
            try:
                await cash.void(settlement)
            except Refusal as refusal:
                if refusal.slug == "already-settled":
                    return
                raise
            raise Refusal(504, {"type": "timeout", "detail": "no answer; voided"}) from exc

    async def _release_taker_leg(self, trade: dict[str, Any], units_delivered: bool) -> None:
        """The taker secured its leg for this trade alone: release it. (The listing's own leg
        stays secured for the listing, which offers the quantity again.)"""
        if (
            trade["mode"] != "listing"
        ):  # an order's legs serve all its trades: released at its close
            return
        if trade["taker_side"] == "buy":
            await self.market.settlement.release(trade["buyer_reservation_id"])
        elif not units_delivered:  # delivered units went back to the taker's account already
            await self.market.registry.release(
                trade["seller_hold_id"], f"dvp-{trade['id']}-release"
            )

    async def _close(self, trade: dict[str, Any], event: TradeSettled | TradeFailed) -> None:
        async def command(tx: EventTransaction) -> None:
            current = await store.get_trade(tx, trade["id"], for_update=True)
            if current is None or current["status"] != "executed":
                return
            await tx.append(f"trade/{trade['id']}", ANY_VERSION, [event])
            now = self.market.now()
            if isinstance(event, TradeSettled):
                await store.close_trade(tx, trade["id"], "settled", now, event.delivered_hold_id)
                return
            await store.close_trade(tx, trade["id"], "failed", now, None, event.leg, event.reason)
            await _offer_again(tx, trade, event.leg)

        await self.runtime.writer.execute(command, CONTEXT)

    async def release_closed_orders(self) -> int:
        """Closed orders whose trades all settled: release what their legs did not use."""
        closed = await orders_store.orders_to_release(self.runtime.pool, 100)
        return await self._release_legs(closed, _mark_order_released)

    async def release_abandoned(self) -> int:
        """Legs secured for a listing, order or take that was never recorded (a crash, a
        refusal, a client that gave up): released once older than any request lasts."""
        released = 0
        for leg in await legs_store.abandoned_legs(self.runtime.pool, self.abandon_after, 100):
            owner = leg["owner_id"]
            if not await legs_store.owner_recorded(self.runtime.pool, owner):
                try:
                    await self._release_abandoned(owner, leg["side"])
                except NoAnswer as exc:
                    log.warning("abandoned leg of %s waits for its release: %s", owner, exc)
                    continue
                log.info("released the abandoned %s leg of %s", leg["side"], owner)
                released += 1
            await legs_store.forget_pending_leg(self.runtime.pool, owner)
        return released

    async def _release_abandoned(self, owner: str, side: str) -> None:
        if side == "buy":
            await _release_quietly(self.market.settlement.release(reservation_id(owner)))
            return
        for hold in await self.market.registry.held_for(owner):
            if hold["status"] == "active":
                await _release_quietly(self.market.registry.release(hold["id"], f"release-{owner}"))

    async def release_withdrawn(self) -> int:
        """Withdrawn listings: release their escrow or reservation, then `ListingReleased`."""
        withdrawn = await store.withdrawn_listings(self.runtime.pool, 100)
        return await self._release_legs(withdrawn, _mark_released)

    async def _release_legs(self, owners: list[dict[str, Any]], mark: Any) -> int:
        """Release each listing's or order's escrow and reservation, then record it (`mark`)."""
        released = 0
        for owner in owners:
            try:
                if owner["hold_id"]:
                    key = f"release-{owner['id']}"
                    await _release_quietly(self.market.registry.release(owner["hold_id"], key))
                if owner["reservation_id"]:
                    await _release_quietly(self.market.settlement.release(owner["reservation_id"]))
            except NoAnswer as exc:
                log.warning("%s waits for its release: %s", owner["id"], exc)
                continue
            await self.runtime.writer.execute(mark(owner["id"]), CONTEXT)
            released += 1
        return released


async def _release_quietly(call: Coroutine[Any, Any, object]) -> None:
    try:
        await call
    except Refusal as refusal:  # released or executed already: nothing left to release
        log.info("release: %s", refusal)


def _mark_released(listing_id: str) -> Any:
    async def command(tx: EventTransaction) -> None:
        listing = await store.get_listing(tx, listing_id, for_update=True)
        if listing is None or listing["status"] != "withdrawn":
            return
        await tx.append(
            f"listing/{listing_id}", ANY_VERSION, [ListingReleased(listing_id=listing_id)]
        )
        await store.set_listing(tx, listing_id, listing["remaining"], "released")

    return command


def _mark_order_released(order_id: str) -> Any:
    async def command(tx: EventTransaction) -> None:
        if await orders_store.mark_order_released(tx, order_id):
            await tx.append(f"order/{order_id}", ANY_VERSION, [OrderReleased(order_id=order_id)])

    return command


async def _offer_again(tx: EventTransaction, trade: dict[str, Any], leg: str) -> None:
    """What is still secured for the listing is offered again: all of it, except a sell
    listing's units once they went back to the seller's account (cash leg refused)."""
    if trade["mode"] != "listing":  # an order is not offered again (its legs: at its close)
        return
    listing = await store.get_listing(tx, trade["listing_id"], for_update=True)
    if listing is None or listing["status"] not in ("open", "filled"):
        return
    if listing["side"] == "sell" and leg == "cash":
        return
    await store.set_listing(tx, listing["id"], listing["remaining"] + trade["quantity"], "open")


def tasks(runtime: Runtime) -> Sequence[Coroutine[Any, Any, None]]:
    market: Market = runtime.extras["market"]
    retry = float(getattr(runtime.settings, "settlement_retry_seconds", 1.0))
    abandon_after = float(getattr(runtime.settings, "abandoned_leg_seconds", 120.0))
    settlement = Settlement(runtime, market, retry, abandon_after)
    clock = MarketClock(runtime, market, retry)
    return [settlement.run_forever(), clock.run_forever(), market.keep_connections()]
