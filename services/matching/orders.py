"""The continuous market model: orders on a price-time book (`domain/book.py`).

An order secures its leg first (as a listing does), then one writer transaction locks the
instrument's book, matches the order in memory and records everything it did: the order, its
trades (settled by `dvp.py` like any other), the resting orders it filled or that self-trade
prevention cancelled. The book is kept in memory between commands and is current only while it
carries the version token the instrument's row holds; any other process's change, or a failed
transaction, makes it rebuild from the open orders in arrival order — the same book, since
resting orders never cross. What a closed order's legs did not use (price improvement, an IOC
remainder, a cancellation) is released by the settlement process once its trades settled.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from libs.events.contract.matching import OrderAccepted, OrderCancelled, TradeExecuted
from libs.events.store import ANY_VERSION, EventTransaction
from libs.servicekit.app import runtime_of
from libs.servicekit.auth import Principal
from services.matching import instruments, legs, legs_store, members, orders_store, store, trades
from services.matching.domain.book import Fill, Order, Outcome
from services.matching.domain.errors import OrderClosed, UnknownOrder, WrongMarketModel
from services.matching.listings import trade_row
from services.matching.market import Market, derived_id, market_of
from services.matching.schemas import OrderView, PlaceOrder
from services.matching.secured import earlier_answer, run_secured


def order_view(row: dict[str, Any], trade_ids: list[str] | None = None) -> OrderView:
    return OrderView(**row, instrument=row["instrument_id"], trades=trade_ids or [])


async def place(
    request: Request, principal: Principal, key: str | None, body: PlaceOrder
) -> JSONResponse:
    if (replay := await earlier_answer(request, principal, key, body)) is not None:
        return replay  # a retry: its first answer, whatever happened since
    market, pool = market_of(request), runtime_of(request).pool
    member = await members.trading_member(pool, principal)
    instrument = await instruments.load(pool, body.instrument)
    if instrument["market_model"] != "continuous":
        raise WrongMarketModel(f"{body.instrument} trades by listing: POST /v1/listings")
    now = market.now()
    terms = await instruments.terms_in_force(pool, instrument, now, market.closes)
    terms.check(body.price, body.quantity, now)
    order_id = derived_id("ORD", member["org"], key)
    limit = body.price if body.price is not None else terms.band()[1]  # a market buy: the top

    def secure() -> Awaitable[legs.SecuredLeg]:
        return legs.secure(
            market,
            pool,
            request.headers.get("authorization", ""),
            member,
            instrument,
            body.side,
            body.quantity,
            limit * body.quantity,
            order_id,
        )

    day = terms.sessions.trading_day(now).isoformat()

    async def record(tx: EventTransaction, leg: legs.SecuredLeg) -> OrderView:
        existing = await orders_store.get_order(tx, order_id)
        if existing is not None:
            view = order_view(existing)
        else:
            view = await _match(
                tx, market, member, _accepted(body, order_id, member, leg), now, day
            )
        await legs_store.forget_pending_leg(tx, order_id)  # recorded: the leg is the order's
        return view

    answer = await run_secured(request, principal, key, body, secure, record)
    market.wake.set()
    return answer


def _accepted(
    body: PlaceOrder, order_id: str, member: dict[str, Any], leg: legs.SecuredLeg
) -> OrderAccepted:
    return OrderAccepted(
        order_id=order_id,
        instrument_id=body.instrument,
        member=member["org"],
        side=body.side,
        type=body.type,
        price=body.price,
        quantity=body.quantity,
        time_in_force=body.time_in_force,
        hold_id=leg.hold_id,
        reservation_id=leg.reservation_id,
    )


async def _match(
    tx: EventTransaction,
    market: Market,
    member: dict[str, Any],
    accepted: OrderAccepted,
    now: datetime,
    day: str,
) -> OrderView:
    book = await market.books.take(tx, accepted.instrument_id)
    outcome = book.submit(
        Order(
            accepted.order_id,
            accepted.member,
            accepted.side,
            accepted.quantity,
            accepted.type,
            accepted.price,
            accepted.time_in_force,
        )
    )
    recorded = await tx.append(f"order/{accepted.order_id}", 0, [accepted])
    made = await _record_fills(tx, member, accepted, outcome, now, day)
    for cancelled in outcome.self_trade_cancelled:
        event = OrderCancelled(
            order_id=cancelled.id, remaining=cancelled.remaining, reason="self-trade"
        )
        await tx.append(f"order/{cancelled.id}", ANY_VERSION, [event])
        await orders_store.set_order(tx, cancelled.id, cancelled.remaining, "cancelled")
    rested = outcome.rested.remaining if outcome.rested else 0
    status = (
        "open" if rested else ("filled" if outcome.filled == accepted.quantity else "cancelled")
    )
    row = accepted.model_dump(exclude={"order_id"}) | {
        "id": accepted.order_id,
        "remaining": rested,
        "status": status,
        "legs_released": False,
        "sequence": recorded[0].sequence,
        "posted_at": now,
    }
    await orders_store.insert_order(tx, row)
    await market.books.put(tx, accepted.instrument_id, book)
    return order_view(row, made)


async def _record_fills(
    tx: EventTransaction,
    taker: dict[str, Any],
    accepted: OrderAccepted,
    outcome: Outcome,
    now: datetime,
    day: str,
) -> list[str]:
    if not outcome.fills:
        return []
    makers = await orders_store.get_orders(tx, [f.maker for f in outcome.fills])
    trade_ids = []
    for number, fill in enumerate(outcome.fills):
        maker = makers[fill.maker]
        lister = await store.get_member(tx, maker["member"])
        assert lister is not None
        event = _trade(
            f"TRD-{accepted.order_id[4:]}-{number + 1}", fill, accepted, maker, taker, lister, day
        )
        recorded = await tx.append(f"trade/{event.trade_id}", 0, [event])
        await store.insert_trade(tx, trade_row(event, recorded[0].sequence, now))
        await orders_store.set_order(
            tx, fill.maker, fill.maker_left, "open" if fill.maker_left else "filled"
        )
        trade_ids.append(event.trade_id)
    return trade_ids


def _trade(
    trade_id: str,
    fill: Fill,
    accepted: OrderAccepted,
    maker: dict[str, Any],
    taker: dict[str, Any],
    lister: dict[str, Any],
    day: str,
) -> TradeExecuted:
    taker_legs = (accepted.hold_id, accepted.reservation_id)
    maker_legs = (maker["hold_id"], maker["reservation_id"])
    buy_legs, sell_legs = (
        (taker_legs, maker_legs) if fill.taker_side == "buy" else (maker_legs, taker_legs)
    )
    buyer, seller = (taker, lister) if fill.taker_side == "buy" else (lister, taker)
    return trades.executed(
        buyer,
        seller,
        trade_id=trade_id,
        instrument_id=accepted.instrument_id,
        mode="continuous",
        price=fill.price,
        quantity=fill.quantity,
        listing_id=fill.maker,
        taker_side=fill.taker_side,
        seller_hold_id=str(sell_legs[0]),
        buyer_reservation_id=str(buy_legs[1]),
        trading_day=day,
        taker_order_id=accepted.order_id,
    )


async def cancel(
    tx: EventTransaction, market: Market, principal: Principal, order_id: str
) -> OrderView:
    order = visible(principal, await orders_store.get_order(tx, order_id))
    book = await market.books.take(tx, order["instrument_id"])
    resting = book.cancel(order["side"], order["price"], order_id)
    if resting is None:
        await market.books.put(tx, order["instrument_id"], book)
        raise OrderClosed(f"order {order_id} is {order['status']}")
    event = OrderCancelled(order_id=order_id, remaining=resting.remaining, reason="cancelled")
    await tx.append(f"order/{order_id}", ANY_VERSION, [event])
    await orders_store.set_order(tx, order_id, resting.remaining, "cancelled")
    await market.books.put(tx, order["instrument_id"], book)
    return order_view(order | {"remaining": resting.remaining, "status": "cancelled"})


def visible(principal: Principal, order: dict[str, Any] | None) -> dict[str, Any]:
    """An order's member and the market operator see it; for anyone else it does not exist."""
    if order is None or not (
        principal.has_any("market_operator") or principal.org == order["member"]
    ):
        raise UnknownOrder()
    return order
