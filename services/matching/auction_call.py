"""The one-way auction's call (单向竞价): once bidding has closed, in one transaction — the
domain's pure `allocate`, `AuctionAllocated`, a trade per winning bid (settled by delivery versus
payment like any other), the losing bids; then the escrow and every reservation are spare. A
crash before the commit leaves nothing: the market's clock (`closing.py`) calls again. Also the
result as the public reads it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from libs.events.contract.matching import AuctionAllocated, AuctionAllocation
from libs.events.store import ANY_VERSION, EventTransaction
from services.matching import auctions_store, instruments, legs_store, store, trades
from services.matching.auctions import load
from services.matching.domain import auction as domain
from services.matching.listings import trade_row
from services.matching.market import Market
from services.matching.schemas import AllocationView, AuctionResult


async def allocate(tx: EventTransaction, market: Market, auction_id: str) -> bool:
    """The call, if the auction's bidding has closed and it is not allocated yet."""
    auction = await load(tx, auction_id, "FOR UPDATE")
    now = market.now()
    if auction["status"] != "bidding" or auction["bidding_closes"] > now:
        return False
    active = [b for b in await auctions_store.bids_of(tx, auction_id) if b["status"] == "active"]
    result = domain.allocate(
        auction["quantity"],
        [domain.Bid(b["id"], b["member"], b["price"], b["quantity"], b["rank"]) for b in active],
        auction["pricing"],
    )
    allocations = [
        AuctionAllocation(**vars(a), trade_id=f"TRD-{auction_id}-{n + 1}")
        for n, a in enumerate(result.allocations)
    ]
    event = AuctionAllocated(auction_id=auction_id, allocations=allocations, unsold=result.unsold)
    await tx.append(f"auction/{auction_id}", ANY_VERSION, [event])
    await _record_trades(tx, auction, {b["id"]: b for b in active}, allocations, now)
    if allocations:
        won = [(a.bid_id, a.quantity, a.price, a.trade_id) for a in allocations]
        await auctions_store.bids_won(tx, won)
    await auctions_store.bids_lost(tx, auction_id)
    await auctions_store.allocated(tx, auction_id, result.unsold)
    await legs_store.spare_legs(tx, [auction_id, *(b["leg_id"] for b in active)])
    return True


async def _record_trades(
    tx: EventTransaction,
    auction: dict[str, Any],
    bids: dict[str, dict[str, Any]],
    allocations: list[AuctionAllocation],
    now: datetime,
) -> None:
    orgs = [auction["seller"], *(a.member for a in allocations)]
    parties = await store.members_by_org(tx, orgs)
    seller = parties[auction["seller"]]
    day = instruments.domain(await instruments.load(tx, auction["instrument_id"])).sessions
    trading_day = day.trading_day(auction["bidding_closes"]).isoformat()
    for allocation in allocations:
        buyer = parties[allocation.member]
        event = trades.executed(
            buyer,
            seller,
            trade_id=allocation.trade_id,
            instrument_id=auction["instrument_id"],
            mode="auction",
            price=allocation.price,
            quantity=allocation.quantity,
            listing_id=auction["id"],
            taker_side="buy",
            seller_hold_id=auction["hold_id"],
            buyer_reservation_id=bids[allocation.bid_id]["reservation_id"],
            trading_day=trading_day,
            taker_order_id=allocation.bid_id,
        )
        recorded = await tx.append(f"trade/{event.trade_id}", 0, [event])
        await store.insert_trade(tx, trade_row(event, recorded[0].sequence, now))


async def result(conn: store.Conn, auction_id: str) -> AuctionResult:
    auction = await load(conn, auction_id)
    won = [b for b in await auctions_store.bids_of(conn, auction_id) if b["status"] == "won"]
    won.sort(key=lambda b: (-b["price"], b["rank"]))  # the order of the call
    return AuctionResult(
        auction_id=auction_id,
        status=auction["status"],
        allocations=[
            AllocationView(
                bid_id=b["id"],
                member=b["member"],
                quantity=b["allocated"],
                price=b["paid_price"],
                trade_id=b["trade_id"],
            )
            for b in won
        ],
        unsold=auction["unsold"],
    )
