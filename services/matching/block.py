"""The block agreement (大宗协议): quote, counter, accept, withdraw — and expiry.

Whoever commits to terms has its leg secured for them first (`legs.py`): the maker when it
quotes, each side when it counters or accepts. A party keeps one leg per negotiation — its
escrow (t) or reservation (fen) — and secures a new one only when its new terms need more (the
old one is then spare). The trade uses both parties' legs; once it exists, or the negotiation
ends without one, they are spare and released by the market's clock (`closing.py`) when no
settling trade uses them. Every decision is taken again under the quote's row lock, so two
members accepting one public quote at once make one trade.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from libs.events.contract.matching import (
    BlockQuoteAccepted,
    BlockQuoteClosed,
    BlockQuoteCountered,
    BlockQuotePosted,
)
from libs.events.store import ANY_VERSION, EventTransaction
from libs.servicekit.app import runtime_of
from libs.servicekit.auth import Principal
from services.matching import (
    block_legs,
    block_store,
    instruments,
    legs,
    legs_store,
    members,
    store,
    trades,
)
from services.matching.domain.block import Negotiation, OfferChanged, SelfAddressed, UnknownQuote
from services.matching.domain.errors import UnknownMember
from services.matching.domain.instruments import Instrument
from services.matching.listings import trade_row
from services.matching.market import Market, derived_id, market_of
from services.matching.schemas import (
    BlockOfferView,
    BlockQuoteView,
    BlockTerms,
    NoBody,
    PostBlockQuote,
    TradeView,
)
from services.matching.secured import earlier_answer, run_secured
from services.matching.trades import trade_view

SUPERVISORS = ("market_operator", "regulator", "auditor")


def stream(quote_id: str) -> str:
    return f"block-quote/{quote_id}"


def negotiation(row: dict[str, Any]) -> Negotiation:
    return Negotiation(
        id=row["id"],
        maker=row["maker"],
        maker_side=row["side"],
        counterparty=row["counterparty"],
        directed=row["directed"],
        status=row["status"],
        last_offer_by=row["last_offer_by"],
    )


def visible(principal: Principal, row: dict[str, Any] | None) -> dict[str, Any]:
    """A directed proposal exists only for its two parties and the market's supervisors."""
    if row is None or not negotiation(row).visible_to(
        principal.org, principal.has_any(*SUPERVISORS)
    ):
        raise UnknownQuote()
    return row


async def views(conn: store.Conn, rows: list[dict[str, Any]]) -> list[BlockQuoteView]:
    dialogue = await block_store.offers(conn, [r["id"] for r in rows])
    return [
        BlockQuoteView(
            **row,
            instrument=row["instrument_id"],
            offers=[BlockOfferView(**offer) for offer in dialogue[row["id"]]],
        )
        for row in rows
    ]


async def view(conn: store.Conn, quote_id: str) -> BlockQuoteView:
    row = await block_store.get_quote(conn, quote_id)
    assert row is not None
    return (await views(conn, [row]))[0]


async def _terms(market: Market, conn: store.Conn, instrument_id: str) -> Instrument:
    row = await instruments.load(conn, instrument_id)
    return await instruments.terms_in_force(conn, row, market.now(), market.closes)


async def _answering(
    request: Request, principal: Principal, quote_id: str
) -> tuple[dict[str, Any], dict[str, Any], Instrument]:
    """The member answering the quote, the quote, the instrument's terms today."""
    market, pool = market_of(request), runtime_of(request).pool
    member = await members.trading_member(pool, principal)
    quote = visible(principal, await block_store.get_quote(pool, quote_id))
    negotiation(quote).check_answer(member["org"])
    return member, quote, await _terms(market, pool, quote["instrument_id"])


async def post(
    request: Request, principal: Principal, key: str | None, body: PostBlockQuote
) -> JSONResponse:
    if (replay := await earlier_answer(request, principal, key, body)) is not None:
        return replay  # a retry: its first answer, whatever happened since
    market, pool = market_of(request), runtime_of(request).pool
    member = await members.trading_member(pool, principal)
    terms = await _terms(market, pool, body.instrument)
    now = market.now()
    terms.check_block(body.price, body.quantity, now)
    if body.counterparty is not None:
        await _check_counterparty(pool, member["org"], body.counterparty)
    quote_id = derived_id("BQ", member["org"], key)
    plan = block_legs.plan_for(None, body.side, body, quote_id)
    secure = block_legs.securer(request, member, body.instrument, body.side, body, plan)
    expires_at = terms.sessions.window_end(now, terms.sessions.block_window)

    async def record(tx: EventTransaction, leg: legs.SecuredLeg) -> BlockQuoteView:
        if await block_store.get_quote(tx, quote_id) is None:
            event = BlockQuotePosted(
                quote_id=quote_id,
                instrument_id=body.instrument,
                member=member["org"],
                side=body.side,
                counterparty=body.counterparty,
                price=body.price,
                quantity=body.quantity,
                leg_id=quote_id,
                hold_id=leg.hold_id,
                reservation_id=leg.reservation_id,
                expires_at=expires_at.isoformat() if expires_at else None,
            )
            await tx.append(stream(quote_id), 0, [event])
            await _insert_quote(tx, event, plan.amount, expires_at, now)
        await legs_store.forget_pending_leg(tx, quote_id)
        return await view(tx, quote_id)

    return await run_secured(request, principal, key, body, secure, record)


async def _check_counterparty(conn: store.Conn, org: str, counterparty: str) -> None:
    if counterparty == org:
        raise SelfAddressed()
    if await store.get_member(conn, counterparty) is None:
        raise UnknownMember(f"{counterparty} is not a member")


async def _insert_quote(
    tx: EventTransaction,
    e: BlockQuotePosted,
    amount: int,
    expires_at: datetime | None,
    now: datetime,
) -> None:
    await block_store.insert_quote(
        tx,
        {
            "id": e.quote_id,
            "instrument_id": e.instrument_id,
            "maker": e.member,
            "side": e.side,
            "counterparty": e.counterparty,
            "directed": e.counterparty is not None,
            "status": "open",
            "price": e.price,
            "quantity": e.quantity,
            "last_offer_by": e.member,
            "maker_leg_id": e.leg_id,
            "counterparty_leg_id": None,
            "trade_id": None,
            "expires_at": expires_at,
            "posted_at": now,
        },
    )
    await _insert_offer(tx, e.quote_id, 1, e.member, e.price, e.quantity, now)
    await legs_store.insert_leg(
        tx, e.leg_id, e.quote_id, e.member, e.hold_id, e.reservation_id, amount
    )


async def _insert_offer(
    tx: EventTransaction,
    quote_id: str,
    number: int,
    member: str,
    price: int,
    quantity: int,
    now: datetime,
) -> None:
    offer = {"quote_id": quote_id, "number": number, "member": member, "price": price}
    await block_store.insert_offer(tx, offer | {"quantity": quantity, "offered_at": now})


async def counter(
    request: Request, principal: Principal, key: str | None, quote_id: str, body: BlockTerms
) -> JSONResponse:
    if (replay := await earlier_answer(request, principal, key, body)) is not None:
        return replay  # a retry: its first answer, whatever happened since
    member, quote, terms = await _answering(request, principal, quote_id)
    org, now = member["org"], market_of(request).now()
    terms.check_block(body.price, body.quantity, now)
    side = negotiation(quote).side_of(org)
    existing = await block_legs.own_leg(runtime_of(request).pool, quote, org)
    plan = block_legs.plan_for(existing, side, body, derived_id("BQL", org, key))
    secure = block_legs.securer(request, member, quote["instrument_id"], side, body, plan)

    async def record(tx: EventTransaction, leg: legs.SecuredLeg) -> BlockQuoteView:
        locked = await block_store.get_quote(tx, quote_id, for_update=True)
        assert locked is not None
        negotiation(locked).check_answer(org)
        block_legs.check_same_leg(locked, org, plan)
        offers = await block_store.offers(tx, [quote_id])
        event = BlockQuoteCountered(
            quote_id=quote_id,
            offer=len(offers[quote_id]) + 1,
            member=org,
            price=body.price,
            quantity=body.quantity,
            leg_id=plan.leg_id,
            hold_id=leg.hold_id,
            reservation_id=leg.reservation_id,
        )
        await tx.append(stream(quote_id), ANY_VERSION, [event])
        await _insert_offer(tx, quote_id, event.offer, org, body.price, body.quantity, now)
        legs_now = await block_legs.switch_leg(tx, locked, org, plan, leg)
        await block_store.update_quote(
            tx,
            quote_id,
            counterparty=locked["counterparty"] or org,
            price=body.price,
            quantity=body.quantity,
            last_offer_by=org,
            **legs_now,
        )
        await legs_store.forget_pending_leg(tx, plan.leg_id)
        return await view(tx, quote_id)

    return await run_secured(request, principal, key, body, secure, record)


async def accept(
    request: Request, principal: Principal, key: str | None, quote_id: str, body: NoBody
) -> JSONResponse:
    if (replay := await earlier_answer(request, principal, key, body)) is not None:
        return replay  # a retry: its first answer, whatever happened since
    member, quote, terms = await _answering(request, principal, quote_id)
    org, now = member["org"], market_of(request).now()
    terms.check_block(quote["price"], quote["quantity"], now)
    trade_id = derived_id("TRD", org, key)
    offer = BlockTerms(price=quote["price"], quantity=quote["quantity"])
    side = negotiation(quote).side_of(org)
    existing = await block_legs.own_leg(runtime_of(request).pool, quote, org)
    plan = block_legs.plan_for(existing, side, offer, trade_id)
    secure = block_legs.securer(request, member, quote["instrument_id"], side, offer, plan)
    day = terms.sessions.trading_day(now).isoformat()

    async def record(tx: EventTransaction, leg: legs.SecuredLeg) -> TradeView:
        existing_trade = await store.get_trade(tx, trade_id)
        if existing_trade is not None:
            return trade_view(existing_trade)
        locked = await block_store.get_quote(tx, quote_id, for_update=True)
        assert locked is not None
        negotiation(locked).check_answer(org)
        block_legs.check_same_leg(locked, org, plan)
        if (locked["price"], locked["quantity"]) != (offer.price, offer.quantity):
            raise OfferChanged("the terms changed while you accepted; read them again")
        legs_now = await block_legs.switch_leg(tx, locked, org, plan, leg)
        trade = await _record_acceptance(tx, locked | legs_now, member, trade_id, leg, day, now)
        await legs_store.forget_pending_leg(tx, plan.leg_id)
        return trade_view(trade)

    answer = await run_secured(request, principal, key, body, secure, record)
    market_of(request).wake.set()  # the settlement process delivers and pays at once
    return answer


async def _record_acceptance(
    tx: EventTransaction,
    quote: dict[str, Any],
    accepter: dict[str, Any],
    trade_id: str,
    leg: legs.SecuredLeg,
    day: str,
    now: datetime,
) -> dict[str, Any]:
    """The trade between the latest offer's maker and the accepter, on their legs."""
    offerer_leg = await legs_store.get_leg(
        tx, str(block_legs.own_leg_id(quote, quote["last_offer_by"]))
    )
    offerer = await store.get_member(tx, quote["last_offer_by"])
    assert offerer_leg is not None and offerer is not None
    accepter_sells = negotiation(quote).side_of(accepter["org"]) == "sell"
    buyer, seller = (offerer, accepter) if accepter_sells else (accepter, offerer)
    hold_id = leg.hold_id if accepter_sells else offerer_leg["hold_id"]
    reservation_id = offerer_leg["reservation_id"] if accepter_sells else leg.reservation_id
    accepter_leg = str(block_legs.own_leg_id(quote, accepter["org"]))
    accepted = BlockQuoteAccepted(
        quote_id=quote["id"],
        member=accepter["org"],
        trade_id=trade_id,
        leg_id=accepter_leg,
        hold_id=leg.hold_id,
        reservation_id=leg.reservation_id,
    )
    event = trades.executed(
        buyer,
        seller,
        trade_id=trade_id,
        instrument_id=quote["instrument_id"],
        mode="block",
        price=quote["price"],
        quantity=quote["quantity"],
        listing_id=quote["id"],
        taker_side="sell" if accepter_sells else "buy",
        seller_hold_id=str(hold_id),
        buyer_reservation_id=str(reservation_id),
        trading_day=day,
    )
    await tx.append(stream(quote["id"]), ANY_VERSION, [accepted])
    recorded = await tx.append(f"trade/{trade_id}", 0, [event])
    trade = trade_row(event, recorded[0].sequence, now)
    await store.insert_trade(tx, trade)
    # Both legs serve this trade alone: released (what is left of them) once it has closed.
    await legs_store.spare_legs(tx, [offerer_leg["id"], accepter_leg])
    await block_store.update_quote(
        tx,
        quote["id"],
        status="accepted",
        trade_id=trade_id,
        counterparty=quote["counterparty"] or accepter["org"],
        maker_leg_id=quote["maker_leg_id"],
        counterparty_leg_id=quote["counterparty_leg_id"],
    )
    return trade


async def withdraw(tx: EventTransaction, principal: Principal, quote_id: str) -> BlockQuoteView:
    quote = visible(principal, await block_store.get_quote(tx, quote_id, for_update=True))
    negotiation(quote).check_withdraw(principal.org or "", principal.has_any("market_operator"))
    await _close(
        tx, quote, BlockQuoteClosed(quote_id=quote_id, reason="withdrawn", by=principal.org)
    )
    return await view(tx, quote_id)


async def expire(tx: EventTransaction, quote_id: str, now: datetime) -> None:
    """End a quote whose block window is over (run by the market's clock, `closing.py`)."""
    quote = await block_store.get_quote(tx, quote_id, for_update=True)
    if quote is None or quote["status"] != "open" or quote["expires_at"] > now:
        return
    await _close(tx, quote, BlockQuoteClosed(quote_id=quote_id, reason="expired"))


async def _close(tx: EventTransaction, quote: dict[str, Any], event: BlockQuoteClosed) -> None:
    await tx.append(stream(quote["id"]), ANY_VERSION, [event])
    party_legs = [quote["maker_leg_id"], quote["counterparty_leg_id"]]
    await legs_store.spare_legs(tx, [leg for leg in party_legs if leg])
    await block_store.update_quote(tx, quote["id"], status=event.reason)


async def listing(
    conn: store.Conn, principal: Principal, instrument: str | None, status: str | None, limit: int
) -> list[BlockQuoteView]:
    rows = await block_store.visible_quotes(
        conn, instrument, principal.org, principal.has_any(*SUPERVISORS), status, limit
    )
    return await views(conn, rows)
