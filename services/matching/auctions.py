"""The one-way auction (单向竞价): announce, bid, amend, withdraw — and the call at the close.

The seller's units are escrowed when the auction is announced, each bid's price × quantity
reserved when it is placed or amended (`legs.py`). A bid is recorded under a share lock of
the auction's row and the call (`auction_call.py`) takes it exclusively, so no bid slips past
the allocation. After the call the escrow and every reservation are spare: what the trades do
not use (unsold units, losing bids, the difference a uniform price leaves) is released once
they have closed (`closing.py`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from libs.events.contract.matching import (
    AuctionAnnounced,
    BidAmended,
    BidPlaced,
    BidWithdrawn,
)
from libs.events.store import ANY_VERSION, EventTransaction
from libs.servicekit.app import runtime_of
from libs.servicekit.auth import Principal
from services.matching import auctions_store, instruments, legs, legs_store, members, store
from services.matching.domain import auction as domain
from services.matching.domain.errors import (
    BidClosed,
    InvalidAuction,
    UnknownAuction,
    UnknownBid,
)
from services.matching.domain.instruments import Instrument
from services.matching.market import Market, derived_id, market_of
from services.matching.schemas import (
    AnnounceAuction,
    AuctionView,
    BidTerms,
    BidView,
)
from services.matching.secured import earlier_answer, run_secured


def auction_view(row: dict[str, Any]) -> AuctionView:
    return AuctionView(**row, instrument=row["instrument_id"])


def bid_view(row: dict[str, Any]) -> BidView:
    return BidView(**row)


def terms_of(row: dict[str, Any]) -> domain.AuctionTerms:
    return domain.AuctionTerms(
        seller=row["seller"],
        quantity=row["quantity"],
        reserve_price=row["reserve_price"],
        cap_price=row["cap_price"],
        min_bid_quantity=row["min_bid_quantity"],
        bidding_opens=row["bidding_opens"],
        bidding_closes=row["bidding_closes"],
    )


async def load(conn: store.Conn, auction_id: str, lock: str = "") -> dict[str, Any]:
    row = await auctions_store.get_auction(conn, auction_id, lock)
    if row is None:
        raise UnknownAuction(f"no auction {auction_id}")
    return row


async def _instrument(market: Market, conn: store.Conn, instrument_id: str) -> Instrument:
    row = await instruments.load(conn, instrument_id)
    return await instruments.terms_in_force(conn, row, market.now(), market.closes)


async def announce(
    request: Request, principal: Principal, key: str | None, body: AnnounceAuction
) -> JSONResponse:
    if (replay := await earlier_answer(request, principal, key, body)) is not None:
        return replay  # a retry: its first answer, whatever happened since
    market, pool = market_of(request), runtime_of(request).pool
    member = await members.trading_member(pool, principal)
    instrument = await instruments.load(pool, body.instrument)
    terms = await instruments.terms_in_force(pool, instrument, market.now(), market.closes)
    now = market.now()
    terms.check_auction(body.quantity, body.bidding_opens, body.bidding_closes, now)
    min_bid = body.min_bid_quantity or terms.lot
    terms.check_lot(min_bid)
    if min_bid > body.quantity:
        raise InvalidAuction("the minimum bid is more than the auction offers")
    reserve, cap = terms.auction_prices(body.reserve)
    auction_id = derived_id("AUC", member["org"], key)

    async def secure() -> legs.SecuredLeg:
        return await legs.secure(
            market,
            pool,
            request.headers.get("authorization", ""),
            member,
            instrument,
            "sell",
            body.quantity,
            0,
            auction_id,
        )

    async def record(tx: EventTransaction, leg: legs.SecuredLeg) -> AuctionView:
        if await auctions_store.get_auction(tx, auction_id) is None:
            event = AuctionAnnounced(
                auction_id=auction_id,
                instrument_id=body.instrument,
                seller=member["org"],
                quantity=body.quantity,
                reserve_rule=body.reserve,
                reserve_price=reserve,
                cap_price=cap,
                pricing=body.pricing,
                bidding_opens=body.bidding_opens.isoformat(),
                bidding_closes=body.bidding_closes.isoformat(),
                min_bid_quantity=min_bid,
                hold_id=str(leg.hold_id),
            )
            await tx.append(f"auction/{auction_id}", 0, [event])
            await _insert_auction(tx, event, body, now)
        await legs_store.forget_pending_leg(tx, auction_id)
        return auction_view(await load(tx, auction_id))

    return await run_secured(request, principal, key, body, secure, record)


async def _insert_auction(
    tx: EventTransaction, e: AuctionAnnounced, body: AnnounceAuction, now: datetime
) -> None:
    row = e.model_dump(exclude={"auction_id", "bidding_opens", "bidding_closes"}) | {
        "id": e.auction_id,
        "bidding_opens": body.bidding_opens,
        "bidding_closes": body.bidding_closes,
        "status": "bidding",
        "unsold": None,
        "announced_at": now,
    }
    await auctions_store.insert_auction(tx, row)
    await legs_store.insert_leg(
        tx, e.auction_id, e.auction_id, e.seller, e.hold_id, None, e.quantity
    )


async def _check_bid(
    market: Market, conn: store.Conn, auction: dict[str, Any], org: str, body: BidTerms
) -> None:
    terms = await _instrument(market, conn, auction["instrument_id"])
    terms.check_not_halted()
    if auction["status"] != "bidding":
        raise domain.AuctionClosed(f"auction {auction['id']} is {auction['status']}")
    terms_of(auction).check_bid(org, body.price, body.quantity, market.now())
    terms.check_lot(body.quantity)
    terms.check_price(body.price, (auction["reserve_price"], auction["cap_price"]))


def _bid_securer(
    request: Request, member: dict[str, Any], auction: dict[str, Any], body: BidTerms, leg: str
) -> Any:
    market, pool = market_of(request), runtime_of(request).pool

    async def secure() -> legs.SecuredLeg:
        instrument = await instruments.load(pool, auction["instrument_id"])
        authorization = request.headers.get("authorization", "")
        amount = body.price * body.quantity
        return await legs.secure(
            market, pool, authorization, member, instrument, "buy", body.quantity, amount, leg
        )

    return secure


async def bid(
    request: Request, principal: Principal, key: str | None, auction_id: str, body: BidTerms
) -> JSONResponse:
    if (replay := await earlier_answer(request, principal, key, body)) is not None:
        return replay  # a retry: its first answer, whatever happened since
    market, pool = market_of(request), runtime_of(request).pool
    member = await members.trading_member(pool, principal)
    await _check_bid(market, pool, await load(pool, auction_id), member["org"], body)
    bid_id = derived_id("BID", member["org"], key)
    secure = _bid_securer(request, member, await load(pool, auction_id), body, bid_id)

    async def record(tx: EventTransaction, leg: legs.SecuredLeg) -> BidView:
        if await auctions_store.get_bid(tx, bid_id) is None:
            auction = await load(tx, auction_id, "FOR SHARE")  # the call waits for this bid
            await _check_bid(market, tx, auction, member["org"], body)
            event = BidPlaced(
                bid_id=bid_id,
                auction_id=auction_id,
                member=member["org"],
                price=body.price,
                quantity=body.quantity,
                leg_id=bid_id,
                reservation_id=str(leg.reservation_id),
            )
            recorded = await tx.append(f"bid/{bid_id}", 0, [event])
            await _insert_bid(tx, event, recorded[0].sequence, market.now())
        await legs_store.forget_pending_leg(tx, bid_id)
        return bid_view(await _bid(tx, bid_id))

    return await run_secured(request, principal, key, body, secure, record)


async def _insert_bid(tx: EventTransaction, e: BidPlaced, rank: int, now: datetime) -> None:
    row = e.model_dump(exclude={"bid_id"}) | {
        "id": e.bid_id,
        "rank": rank,
        "status": "active",
        "allocated": None,
        "paid_price": None,
        "trade_id": None,
        "placed_at": now,
    }
    await auctions_store.insert_bid(tx, row)
    amount = e.price * e.quantity
    await legs_store.insert_leg(
        tx, e.leg_id, e.auction_id, e.member, None, e.reservation_id, amount
    )


async def _bid(conn: store.Conn, bid_id: str) -> dict[str, Any]:
    row = await auctions_store.get_bid(conn, bid_id)
    assert row is not None
    return row


def own_bid(principal: Principal, row: dict[str, Any] | None, auction_id: str) -> dict[str, Any]:
    """A bid is sealed: its bidder (and the market operator) see it; for others it does not
    exist."""
    if row is None or row["auction_id"] != auction_id:
        raise UnknownBid()
    if not (principal.has_any("market_operator") or principal.org == row["member"]):
        raise UnknownBid()
    return row


async def amend(
    request: Request,
    principal: Principal,
    key: str | None,
    auction_id: str,
    bid_id: str,
    body: BidTerms,
) -> JSONResponse:
    if (replay := await earlier_answer(request, principal, key, body)) is not None:
        return replay  # a retry: its first answer, whatever happened since
    market, pool = market_of(request), runtime_of(request).pool
    member = await members.trading_member(pool, principal)
    current = own_bid(principal, await auctions_store.get_bid(pool, bid_id), auction_id)
    if current["status"] != "active":
        raise BidClosed(f"bid {bid_id} is {current['status']}")
    auction = await load(pool, auction_id)
    await _check_bid(market, pool, auction, member["org"], body)
    leg_id = derived_id("BDL", member["org"], key)
    secure = _bid_securer(request, member, auction, body, leg_id)

    async def record(tx: EventTransaction, leg: legs.SecuredLeg) -> BidView:
        if await legs_store.get_leg(tx, leg_id) is None:
            locked_auction = await load(tx, auction_id, "FOR SHARE")
            await _check_bid(market, tx, locked_auction, member["org"], body)
            locked = await auctions_store.get_bid(tx, bid_id, for_update=True)
            assert locked is not None
            if locked["status"] != "active":
                raise BidClosed(f"bid {bid_id} is {locked['status']}")
            event = BidAmended(
                bid_id=bid_id,
                auction_id=auction_id,
                price=body.price,
                quantity=body.quantity,
                leg_id=leg_id,
                reservation_id=str(leg.reservation_id),
            )
            recorded = await tx.append(f"bid/{bid_id}", ANY_VERSION, [event])
            await _record_amendment(tx, locked, event, recorded[0].sequence)
        await legs_store.forget_pending_leg(tx, leg_id)
        return bid_view(await _bid(tx, bid_id))

    return await run_secured(request, principal, key, body, secure, record)


async def _record_amendment(
    tx: EventTransaction, bid_row: dict[str, Any], e: BidAmended, rank: int
) -> None:
    await auctions_store.amend_bid(
        tx, e.bid_id, e.price, e.quantity, rank, e.leg_id, e.reservation_id
    )
    amount = e.price * e.quantity
    await legs_store.insert_leg(
        tx, e.leg_id, e.auction_id, bid_row["member"], None, e.reservation_id, amount
    )
    await legs_store.spare_legs(tx, [bid_row["leg_id"]])


async def withdraw_bid(
    tx: EventTransaction, market: Market, principal: Principal, auction_id: str, bid_id: str
) -> BidView:
    auction = await load(tx, auction_id, "FOR SHARE")
    row = own_bid(principal, await auctions_store.get_bid(tx, bid_id, for_update=True), auction_id)
    if row["status"] != "active":
        raise BidClosed(f"bid {bid_id} is {row['status']}")
    if auction["status"] != "bidding" or market.now() >= auction["bidding_closes"]:
        raise domain.AuctionClosed("bidding has closed: the bid stands")
    await tx.append(
        f"bid/{bid_id}", ANY_VERSION, [BidWithdrawn(bid_id=bid_id, auction_id=auction_id)]
    )
    await auctions_store.set_bid_status(tx, bid_id, "withdrawn")
    await legs_store.spare_legs(tx, [row["leg_id"]])
    return bid_view(row | {"status": "withdrawn"})
