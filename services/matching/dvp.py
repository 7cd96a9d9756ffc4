"""Delivery versus payment: the process manager that settles every executed trade.

Driven by the matching log's projection (`trades` with status `executed`), trades settle in
batches: `SettlementBatchOpened` fixes which trades settle together before any step, and each
registry step is one bulk request for the whole batch keyed by it, so after a crash the batch
runs again from the start and every step done answers the same:

1. units: each seller's escrow is executed to its buyer's registry account *still held by the
   market* (`keep_held`), so the buyer cannot move them yet (`dvp-{batch}-deliver`);
2. cash: the settlement system moves each amount from the buyer's reservation to the seller
   (`STL-{trade}`, one call per trade); a refused or unanswered call is voided, so that its
   outcome is final — the void either wins (the cash will never move) or finds it settled;
3. final: each delivery hold is executed to the buyer's own account, or, where the cash was
   refused, back to the seller's (`dvp-{batch}-finish`); `TradeSettled` / `TradeFailed`.

A refused step unwinds only its trade: units refused stay in the escrow, cash refused sends
the units back (step 3); the taker's own reservation or escrow is released, and the listing
offers again what is still secured for it. No answer at all leaves the batch's trades
`executed` and the batch is tried again (after `retry_seconds`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from libs.events.contract.matching import (
    ListingReleased,
    OrderReleased,
    SettlementBatchOpened,
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
BATCH_SIZE = 500  # trades per settlement batch (one bulk request per registry step)
BATCHES_AT_ONCE = 4
CASH_AT_ONCE = 32  # calls to the settlement system under way at once per batch
RELEASES_AT_ONCE = 500  # closed orders or withdrawn listings released per pass
Trade = dict[str, Any]  # a `trades` row with its `batch_id`
Mark = Callable[[EventTransaction, str], Awaitable[None]]  # records a listing's or order's release


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
        """Batch the executed trades, then settle the open batches (independent of each
        other: two sharing an escrow or a reservation are serialised by the registry and the
        settlement system); the number of trades closed."""
        if await store.unbatched_trades(self.runtime.pool, 1):
            await self.runtime.writer.execute(_open_batches, CONTEXT)
        batches = await store.settling_batches(self.runtime.pool, 4 * BATCHES_AT_ONCE)
        slots = asyncio.Semaphore(BATCHES_AT_ONCE)

        async def one(batch: list[Trade]) -> int:
            async with slots:
                return await self.settle_batch(batch)

        outcomes = await asyncio.gather(*(one(b) for b in batches), return_exceptions=True)
        for batch, outcome in zip(batches, outcomes, strict=True):
            if isinstance(outcome, NoAnswer):
                log.warning("batch %s waits: %s", batch[0]["batch_id"], outcome)
            elif isinstance(outcome, BaseException):
                log.error("batch %s: %r", batch[0]["batch_id"], outcome)
        return sum(o for o in outcomes if isinstance(o, int))

    async def settle_batch(self, batch: list[Trade]) -> int:
        """Steps 1–3 for the batch's trades, then one command closing them; raises `NoAnswer`
        (the batch waits) if a step got no answer."""
        batch_id = batch[0]["batch_id"]
        registry = self.market.registry
        deliveries = await registry.execute_many(
            [_delivery(t) for t in batch], key=f"dvp-{batch_id}-deliver"
        )
        delivered = {
            t["id"]: str(d["result"]["delivered_hold_id"])
            for t, d in zip(batch, deliveries, strict=True)
            if d["status"] == 201
        }
        paying = [t for t in batch if t["id"] in delivered]
        slots = asyncio.Semaphore(CASH_AT_ONCE)

        async def paid(trade: Trade) -> str | None:
            async with slots:
                return await self._pay(trade)

        outcomes = await asyncio.gather(*(paid(t) for t in paying))
        refusals = dict(zip([t["id"] for t in paying], outcomes, strict=True))
        if paying:
            finals = [
                _final(t, delivered[t["id"]], refused=refusals[t["id"]] is not None) for t in paying
            ]
            finished = await registry.execute_many(finals, key=f"dvp-{batch_id}-finish")
            if stuck := [f for f in finished if f["status"] != 201]:  # the market's own holds
                raise RuntimeError(f"the final step of batch {batch_id} was refused: {stuck}")
        events: dict[str, TradeSettled | TradeFailed] = {}
        for trade, delivery in zip(batch, deliveries, strict=True):
            events[trade["id"]] = await self._outcome(trade, delivery, delivered, refusals)
        return await self._close(batch, events)

    async def _outcome(
        self,
        trade: Trade,
        delivery: dict[str, Any],
        delivered: dict[str, str],
        refusals: dict[str, str | None],
    ) -> TradeSettled | TradeFailed:
        """The trade's closing event once its steps are done; a failed trade's taker leg is
        released first (idempotent: a batch run again releases it again)."""
        trade_id = trade["id"]
        if trade_id not in delivered:
            await self._release_taker_leg(trade, units_delivered=False)
            reason = f"registry: {Refusal(delivery['status'], delivery['problem'] or {})}"
            return TradeFailed(trade_id=trade_id, leg="units", reason=reason)
        if (refused := refusals[trade_id]) is not None:
            await self._release_taker_leg(trade, units_delivered=True)
            return TradeFailed(trade_id=trade_id, leg="cash", reason=refused)
        return TradeSettled(trade_id=trade_id, delivered_hold_id=delivered[trade_id])

    async def _pay(self, trade: Trade) -> str | None:
        """The cash leg: None once paid, else why it never will be (its settlement voided, so
        that a batch run again finds the same outcome). `NoAnswer` if even the void got none."""
        cash = self.market.settlement
        settlement = settlement_id(trade["id"])
        amount = trade["price"] * trade["quantity"]
        try:
            await cash.settle(
                settlement, trade["buyer_reservation_id"], trade["seller_cash_account"], amount
            )
            return None
        except Refusal as refusal:
            reason = f"settlement: {refusal}"
        except NoAnswer as exc:
            log.warning("trade %s: no answer to the cash leg (%s): voiding it", trade["id"], exc)
            reason = "settlement: no answer; voided"
        try:
            await cash.void(settlement)
        except Refusal as refusal:
            if refusal.slug == "already-settled":
                return None
            raise
        return reason

    async def _release_taker_leg(self, trade: Trade, units_delivered: bool) -> None:
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

    async def _close(
        self, batch: list[Trade], events: dict[str, TradeSettled | TradeFailed]
    ) -> int:
        """One command closing the batch's trades still executed; how many it closed."""

        async def command(tx: EventTransaction) -> int:
            executed = await store.executed_among(tx, list(events))
            closings: list[store.Closing] = []
            for trade in batch:
                if trade["id"] not in executed:
                    continue
                event = events[trade["id"]]
                await tx.append(f"trade/{trade['id']}", ANY_VERSION, [event])
                if isinstance(event, TradeSettled):
                    closings.append(
                        store.Closing(trade["id"], "settled", event.delivered_hold_id, None, None)
                    )
                    continue
                closings.append(store.Closing(trade["id"], "failed", None, event.leg, event.reason))
                await _offer_again(tx, trade, event.leg)
            await store.close_trades(tx, closings, self.market.now())
            return len(closings)

        return await self.runtime.writer.execute(command, CONTEXT)

    async def release_closed_orders(self) -> int:
        """Closed orders whose trades all settled: release what their legs did not use."""
        closed = await orders_store.orders_to_release(self.runtime.pool, RELEASES_AT_ONCE)
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
        withdrawn = await store.withdrawn_listings(self.runtime.pool, RELEASES_AT_ONCE)
        return await self._release_legs(withdrawn, _mark_released)

    async def _release_legs(self, owners: list[dict[str, Any]], mark: Mark) -> int:
        """Release the listings' or orders' escrows (one bulk request) and reservations, then
        record them (`mark`, one command). A release is idempotent by nature — a hold or
        reservation released already stays released — so a pass run again just repeats it."""
        if not owners:
            return 0
        holds = [owner["hold_id"] for owner in owners if owner["hold_id"]]
        reservations = [owner["reservation_id"] for owner in owners if owner["reservation_id"]]
        slots = asyncio.Semaphore(CASH_AT_ONCE)

        async def release(reservation: str) -> None:
            async with slots:
                await _release_quietly(self.market.settlement.release(reservation))

        try:
            if holds:
                for answer in await self.market.registry.release_many(holds):
                    if answer["status"] != 201:  # released or executed already
                        log.info("release: %s", answer["problem"])
            await asyncio.gather(*(release(r) for r in reservations))
        except NoAnswer as exc:
            log.warning("releases wait: %s", exc)
            return 0

        async def command(tx: EventTransaction) -> None:
            for owner in owners:
                await mark(tx, owner["id"])

        await self.runtime.writer.execute(command, CONTEXT)
        return len(owners)


async def _release_quietly(call: Coroutine[Any, Any, object]) -> None:
    try:
        await call
    except Refusal as refusal:  # released or executed already: nothing left to release
        log.info("release: %s", refusal)


async def _mark_released(tx: EventTransaction, listing_id: str) -> None:
    listing = await store.get_listing(tx, listing_id, for_update=True)
    if listing is None or listing["status"] != "withdrawn":
        return
    await tx.append(f"listing/{listing_id}", ANY_VERSION, [ListingReleased(listing_id=listing_id)])
    await store.set_listing(tx, listing_id, listing["remaining"], "released")


async def _mark_order_released(tx: EventTransaction, order_id: str) -> None:
    if await orders_store.mark_order_released(tx, order_id):
        await tx.append(f"order/{order_id}", ANY_VERSION, [OrderReleased(order_id=order_id)])


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


async def _open_batches(tx: EventTransaction) -> None:
    """Executed trades in no batch yet go into batches of up to `BATCH_SIZE`, each named by its
    first trade (a trade is in one batch only, so the name is unique)."""
    trade_ids = await store.unbatched_trades(tx, BATCHES_AT_ONCE * BATCH_SIZE)
    for start in range(0, len(trade_ids), BATCH_SIZE):
        chunk = trade_ids[start : start + BATCH_SIZE]
        batch_id = f"SB-{chunk[0]}"
        await store.open_batch(tx, batch_id, chunk)
        opened = SettlementBatchOpened(batch_id=batch_id, trade_ids=chunk)
        await tx.append(f"settlement-batch/{batch_id}", ANY_VERSION, [opened])


def _delivery(trade: Trade) -> dict[str, Any]:
    """Step 1's item: the seller's escrow to the buyer, still held by the market."""
    return {
        "hold_id": trade["seller_hold_id"],
        "to_account": trade["buyer_registry_account"],
        "quantity": trade["quantity"],
        "keep_held": True,
    }


def _final(trade: Trade, delivered: str, refused: bool) -> dict[str, Any]:
    """Step 3's item: the delivery hold to the buyer's own account, or back to the seller's
    when the cash was refused (not a purchase: the units keep their date)."""
    owner = trade["seller_registry_account"] if refused else trade["buyer_registry_account"]
    return {"hold_id": delivered, "to_account": owner, "keep_held": False}


def tasks(runtime: Runtime) -> Sequence[Coroutine[Any, Any, None]]:
    market: Market = runtime.extras["market"]
    retry = float(getattr(runtime.settings, "settlement_retry_seconds", 1.0))
    abandon_after = float(getattr(runtime.settings, "abandoned_leg_seconds", 120.0))
    settlement = Settlement(runtime, market, retry, abandon_after)
    clock = MarketClock(runtime, market, retry)
    return [settlement.run_forever(), clock.run_forever(), market.keep_connections()]
