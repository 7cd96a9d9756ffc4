"""The listing agreement (挂牌协议): post, take, withdraw — and the counterparty view.

Posting and taking secure the member's own leg first (`legs.py`), outside the database, then
record the listing or trade in one writer transaction that checks everything again under the
listing's row lock: fifty members taking one listing at once never overfill it.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from libs.events.contract.matching import ListingPosted, ListingWithdrawn, TradeExecuted
from libs.events.store import ANY_VERSION, EventTransaction
from libs.servicekit.app import runtime_of
from libs.servicekit.auth import Principal
from services.matching import instruments, legs, legs_store, members, store, trades
from services.matching.domain.errors import TradesSettling, UnknownListing, WrongMarketModel
from services.matching.domain.listings import (
    BEST_LEVELS,
    ListingClosed,
    OpenListing,
    best_levels,
    check_take,
)
from services.matching.market import derived_id, market_of
from services.matching.schemas import (
    LevelView,
    ListingsBoard,
    ListingView,
    PostListing,
    PublicListing,
    TakeListing,
    TradeView,
)
from services.matching.secured import earlier_answer, run_secured
from services.matching.trades import trade_view


def listing_view(row: dict[str, Any]) -> ListingView:
    return ListingView(**row, instrument=row["instrument_id"])


def _open(row: dict[str, Any]) -> OpenListing:
    return OpenListing(
        row["id"], row["side"], row["member"], row["price"], row["remaining"], row["posted_at"]
    )


async def _listing_instrument(conn: store.Conn, instrument_id: str) -> dict[str, Any]:
    row = await instruments.load(conn, instrument_id)
    if row["market_model"] != "listing":
        raise WrongMarketModel(f"{instrument_id} trades on the continuous book: POST /v1/orders")
    return row


async def post(
    request: Request, principal: Principal, key: str | None, body: PostListing
) -> JSONResponse:
    if (replay := await earlier_answer(request, principal, key, body)) is not None:
        return replay  # a retry: its first answer, whatever happened since
    market, pool = market_of(request), runtime_of(request).pool
    member = await members.trading_member(pool, principal)
    instrument = await _listing_instrument(pool, body.instrument)
    now = market.now()
    terms = await instruments.terms_in_force(pool, instrument, now, market.closes)
    terms.check(body.price, body.quantity, now)
    listing_id = derived_id("LST", member["org"], key)

    def secure() -> Awaitable[legs.SecuredLeg]:
        return legs.secure(
            market,
            pool,
            request.headers.get("authorization", ""),
            member,
            instrument,
            body.side,
            body.quantity,
            body.price * body.quantity,
            listing_id,
        )

    row = {
        "id": listing_id,
        "instrument_id": body.instrument,
        "side": body.side,
        "member": member["org"],
        "price": body.price,
        "quantity": body.quantity,
        "remaining": body.quantity,
        "status": "open",
        "posted_at": now,
    }

    async def record(tx: EventTransaction, leg: legs.SecuredLeg) -> ListingView:
        row.update(hold_id=leg.hold_id, reservation_id=leg.reservation_id)
        if await store.get_listing(tx, listing_id) is None:
            event = ListingPosted(
                listing_id=listing_id,
                instrument_id=body.instrument,
                side=body.side,
                member=member["org"],
                price=body.price,
                quantity=body.quantity,
                hold_id=leg.hold_id,
                reservation_id=leg.reservation_id,
            )
            await tx.append(f"listing/{listing_id}", 0, [event])
            await store.insert_listing(tx, row)
        await legs_store.forget_pending_leg(tx, listing_id)  # recorded: the leg is the listing's
        return listing_view(row)

    return await run_secured(request, principal, key, body, secure, record)


async def take(
    request: Request, principal: Principal, key: str | None, listing_id: str, body: TakeListing
) -> JSONResponse:
    if (replay := await earlier_answer(request, principal, key, body)) is not None:
        return replay  # a retry: its first answer, whatever happened since
    market, pool = market_of(request), runtime_of(request).pool
    member = await members.trading_member(pool, principal)
    listing = await store.get_listing(pool, listing_id)
    if listing is None:
        raise UnknownListing(f"no listing {listing_id}")
    instrument = await _listing_instrument(pool, listing["instrument_id"])
    now = market.now()
    terms = await instruments.terms_in_force(pool, instrument, now, market.closes)
    terms.check(listing["price"], body.quantity, now)
    await _check_take(pool, listing, member["org"], body.quantity)
    trade_id = derived_id("TRD", member["org"], key)
    taker_side = "buy" if listing["side"] == "sell" else "sell"

    def secure() -> Awaitable[legs.SecuredLeg]:
        return legs.secure(
            market,
            pool,
            request.headers.get("authorization", ""),
            member,
            instrument,
            taker_side,
            body.quantity,
            listing["price"] * body.quantity,
            trade_id,
        )

    day = terms.sessions.trading_day(now).isoformat()

    async def record(tx: EventTransaction, own: legs.SecuredLeg) -> TradeView:
        legs_of_trade = (
            own.hold_id or listing["hold_id"],
            own.reservation_id or listing["reservation_id"],
        )  # the seller's escrow and the buyer's reservation: the taker's own, or the listing's
        existing = await store.get_trade(tx, trade_id)
        if existing is not None:
            return trade_view(existing)
        locked = await store.get_listing(tx, listing_id, for_update=True)
        assert locked is not None
        await _check_take(tx, locked, member["org"], body.quantity)
        lister = await store.get_member(tx, locked["member"])
        assert lister is not None
        event = _trade_event(trade_id, locked, member, lister, body.quantity, legs_of_trade, day)
        recorded = await tx.append(f"trade/{trade_id}", 0, [event])
        trade = trade_row(event, recorded[0].sequence, now)
        await store.insert_trade(tx, trade)
        remaining = locked["remaining"] - body.quantity
        await store.set_listing(tx, listing_id, remaining, "open" if remaining else "filled")
        await legs_store.forget_pending_leg(tx, trade_id)  # recorded: the leg is the trade's
        return trade_view(trade)

    answer = await run_secured(request, principal, key, body, secure, record)
    market.wake.set()  # the settlement process delivers and pays at once
    return answer


def _trade_event(
    trade_id: str,
    listing: dict[str, Any],
    taker: dict[str, Any],
    lister: dict[str, Any],
    quantity: int,
    secured: tuple[str, str],
    day: str,
) -> TradeExecuted:
    buyer, seller = (taker, lister) if listing["side"] == "sell" else (lister, taker)
    return trades.executed(
        buyer,
        seller,
        trade_id=trade_id,
        instrument_id=listing["instrument_id"],
        mode="listing",
        price=listing["price"],
        quantity=quantity,
        listing_id=listing["id"],
        taker_side="buy" if listing["side"] == "sell" else "sell",
        seller_hold_id=secured[0],
        buyer_reservation_id=secured[1],
        trading_day=day,
    )


def trade_row(event: TradeExecuted, sequence: int, now: datetime) -> dict[str, Any]:
    return event.model_dump(exclude={"trade_id", "trading_day"}) | {
        "id": event.trade_id,
        "trading_day": datetime.fromisoformat(event.trading_day).date(),
        "status": "executed",
        "delivered_hold_id": None,
        "failed_leg": None,
        "failure_reason": None,
        "sequence": sequence,
        "executed_at": now,
        "closed_at": None,
    }


async def _check_take(conn: store.Conn, listing: dict[str, Any], taker: str, quantity: int) -> None:
    best = await store.best_prices(conn, listing["instrument_id"], listing["side"], BEST_LEVELS)
    check_take(_open(listing), listing["status"], taker, quantity, best)


async def withdraw(tx: EventTransaction, principal: Principal, listing_id: str) -> ListingView:
    listing = visible(principal, await store.get_listing(tx, listing_id, for_update=True))
    if listing["status"] != "open":
        raise ListingClosed(f"listing {listing_id} is {listing['status']}")
    if await store.has_settling_trades(tx, listing_id):
        raise TradesSettling("retry in a moment: the listing's trades are settling")
    event = ListingWithdrawn(listing_id=listing_id, remaining=listing["remaining"])
    await tx.append(f"listing/{listing_id}", ANY_VERSION, [event])
    await store.set_listing(tx, listing_id, listing["remaining"], "withdrawn")
    return listing_view(listing | {"status": "withdrawn"})


def visible(principal: Principal, listing: dict[str, Any] | None) -> dict[str, Any]:
    """A listing's owner and the market operator see it; for anyone else it does not exist."""
    if listing is None or not (
        principal.has_any("market_operator") or principal.org == listing["member"]
    ):
        raise UnknownListing()
    return listing


async def board(conn: store.Conn, instrument_id: str, side: str) -> ListingsBoard:
    """The counterparty view: the side's best five levels with their listings."""
    await _listing_instrument(conn, instrument_id)
    prices = await store.best_prices(conn, instrument_id, side, BEST_LEVELS)
    rows = await store.open_listings_at(conn, instrument_id, side, prices)
    levels = best_levels(side, [_open(r) for r in rows])  # type: ignore[arg-type]
    return ListingsBoard(
        instrument=instrument_id,
        side=side,
        levels=[
            LevelView(
                price=level.price,
                quantity=level.quantity,
                listings=[
                    PublicListing(id=x.id, remaining=x.remaining, posted_at=x.posted_at)
                    for x in level.listings
                ],
            )
            for level in levels
        ],
    )
