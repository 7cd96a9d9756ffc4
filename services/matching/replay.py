"""Replaying the matching log: the state its events imply, to compare with the live tables.

The continuous book is replayed with the domain's own `OrderBook` — `OrderAccepted` and member
cancellations in log order — so the replay also checks that the book is deterministic: every
fill it makes must be a `TradeExecuted` of the log, in the same order, and no other. Listings
and trades follow their events. Timestamps are the database's clock at write time, not facts
of the log: they are not compared (nor the cached book's version token).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from libs.events.catalog import EventPayload
from libs.events.contract import matching as contract
from services.matching.domain.book import Order, OrderBook

# The columns compared, per table, in this order.
COLUMNS = {
    "instruments": "id, program, vintage, market_model, reference_price, tick, lot, band_percent,"
    " max_quantity, sessions, halted, block_min_quantity, block_band_percent,"
    " auction_min_quantity, auction_cap_percent",
    "members": "org, registry_account, cash_account",
    "listings": "id, instrument_id, side, member, price, quantity, remaining, status, hold_id,"
    " reservation_id",
    "orders": "id, instrument_id, member, side, type, price, quantity, remaining, time_in_force,"
    " status, legs_released, hold_id, reservation_id, sequence",
    "trades": "id, instrument_id, mode, price, quantity, buyer, seller, listing_id, taker_side,"
    " seller_hold_id, buyer_reservation_id, status, delivered_hold_id, failed_leg,"
    " failure_reason, sequence, taker_order_id, batch_id",
    "block_quotes": "id, instrument_id, maker, side, counterparty, directed, status, price,"
    " quantity, last_offer_by, maker_leg_id, counterparty_leg_id, trade_id, expires_at",
    "block_offers": "quote_id, number, member, price, quantity",
    "auctions": "id, instrument_id, seller, quantity, reserve_rule, reserve_price, cap_price,"
    " pricing, bidding_opens, bidding_closes, min_bid_quantity, hold_id, status, unsold",
    "bids": "id, auction_id, member, price, quantity, rank, status, leg_id, reservation_id,"
    " allocated, paid_price, trade_id",
    "secured_legs": "id, owner_id, member, hold_id, reservation_id, amount, state",
}


class ReplayMismatch(Exception):
    """The log contradicts itself (e.g. the book replays to fills the log does not have)."""


@dataclass
class MatchingReplay:
    instruments: dict[str, list[Any]] = field(default_factory=dict)
    members: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    listings: dict[str, list[Any]] = field(default_factory=dict)
    orders: dict[str, list[Any]] = field(default_factory=dict)
    trades: dict[str, list[Any]] = field(default_factory=dict)
    books: dict[str, OrderBook] = field(default_factory=dict)
    expected_fills: list[tuple[str, str, int, int]] = field(default_factory=list)
    block_quotes: dict[str, list[Any]] = field(default_factory=dict)
    block_offers: list[tuple[Any, ...]] = field(default_factory=list)
    auctions: dict[str, list[Any]] = field(default_factory=dict)
    bids: dict[str, list[Any]] = field(default_factory=dict)
    secured_legs: dict[str, list[Any]] = field(default_factory=dict)

    def apply(self, sequence: int, event: EventPayload) -> None:
        handler = getattr(self, f"_on_{type(event).__name__}", None)
        if handler is not None:
            handler(sequence, event)

    def _on_InstrumentListed(self, _: int, e: contract.InstrumentListed) -> None:
        sessions = e.sessions.model_dump(mode="json")
        self.instruments[e.instrument_id] = [
            e.instrument_id, e.program, e.vintage, e.market_model, e.reference_price, e.tick,
            e.lot, e.band_percent, e.max_quantity, sessions, False, e.block_min_quantity,
            e.block_band_percent, e.auction_min_quantity, e.auction_cap_percent,
        ]  # fmt: skip

    def _on_InstrumentHalted(self, _: int, e: contract.InstrumentHalted) -> None:
        self.instruments[e.instrument_id][10] = True

    def _on_InstrumentResumed(self, _: int, e: contract.InstrumentResumed) -> None:
        self.instruments[e.instrument_id][10] = False

    def _on_MemberAdmitted(self, _: int, e: contract.MemberAdmitted) -> None:
        self.members[e.org] = (e.org, e.registry_account, e.cash_account)

    def _on_ListingPosted(self, _: int, e: contract.ListingPosted) -> None:
        self.listings[e.listing_id] = [
            e.listing_id, e.instrument_id, e.side, e.member, e.price, e.quantity, e.quantity,
            "open", e.hold_id, e.reservation_id,
        ]  # fmt: skip

    def _on_ListingWithdrawn(self, _: int, e: contract.ListingWithdrawn) -> None:
        self.listings[e.listing_id][7] = "withdrawn"

    def _on_ListingReleased(self, _: int, e: contract.ListingReleased) -> None:
        self.listings[e.listing_id][7] = "released"

    def _on_OrderAccepted(self, sequence: int, e: contract.OrderAccepted) -> None:
        book = self.books.setdefault(e.instrument_id, OrderBook())
        order = Order(e.order_id, e.member, e.side, e.quantity, e.type, e.price, e.time_in_force)
        outcome = book.submit(order)
        rested = outcome.rested.remaining if outcome.rested else 0
        status = "open" if rested else ("filled" if outcome.filled == e.quantity else "cancelled")
        self.orders[e.order_id] = [
            e.order_id, e.instrument_id, e.member, e.side, e.type, e.price, e.quantity, rested,
            e.time_in_force, status, False, e.hold_id, e.reservation_id, sequence,
        ]  # fmt: skip
        for fill in outcome.fills:
            self.expected_fills.append((fill.maker, fill.taker, fill.price, fill.quantity))
            self.orders[fill.maker][7] = fill.maker_left
            self.orders[fill.maker][9] = "open" if fill.maker_left else "filled"
        for cancelled in outcome.self_trade_cancelled:
            self.orders[cancelled.id][9] = "cancelled"

    def _on_OrderCancelled(self, _: int, e: contract.OrderCancelled) -> None:
        if e.reason == "cancelled":  # self-trade cancellations replay with the order's submit
            order = self.orders[e.order_id]
            self.books[order[1]].cancel(order[3], order[5], e.order_id)
            order[9] = "cancelled"

    def _on_OrderReleased(self, _: int, e: contract.OrderReleased) -> None:
        self.orders[e.order_id][10] = True

    def _on_TradeExecuted(self, sequence: int, e: contract.TradeExecuted) -> None:
        self.trades[e.trade_id] = [
            e.trade_id, e.instrument_id, e.mode, e.price, e.quantity, e.buyer, e.seller,
            e.listing_id, e.taker_side, e.seller_hold_id, e.buyer_reservation_id, "executed",
            None, None, None, sequence, e.taker_order_id, None,
        ]  # fmt: skip
        if e.mode == "continuous":
            fill = (e.listing_id, e.taker_order_id, e.price, e.quantity)
            if not self.expected_fills or self.expected_fills.pop(0) != fill:
                raise ReplayMismatch(f"{e.trade_id}: the book does not replay to this fill")
            return
        if e.mode != "listing":  # block and auction trades: their own events say the rest
            return
        listing = self.listings[e.listing_id]
        listing[6] -= e.quantity
        listing[7] = "open" if listing[6] else "filled"

    def _on_SettlementBatchOpened(self, _: int, e: contract.SettlementBatchOpened) -> None:
        for trade_id in e.trade_ids:
            self.trades[trade_id][17] = e.batch_id

    def _on_TradeSettled(self, _: int, e: contract.TradeSettled) -> None:
        self.trades[e.trade_id][11:13] = ["settled", e.delivered_hold_id]

    def _on_TradeFailed(self, _: int, e: contract.TradeFailed) -> None:
        trade = self.trades[e.trade_id]
        trade[11], trade[13], trade[14] = "failed", e.leg, e.reason
        if trade[2] != "listing":
            return
        listing = self.listings[trade[7]]
        if listing[7] in ("open", "filled") and not (listing[2] == "sell" and e.leg == "cash"):
            listing[6] += trade[4]
            listing[7] = "open"

    # -- the block agreement, the one-way auction and their legs --------------------------------

    def _leg(
        self, leg_id: str, owner: str, member: str, hold: Any, reservation: Any, amount: int
    ) -> None:
        self.secured_legs[leg_id] = [leg_id, owner, member, hold, reservation, amount, "live"]

    def _spare(self, *leg_ids: str | None) -> None:
        for leg_id in leg_ids:
            if leg_id is not None and self.secured_legs[leg_id][6] == "live":
                self.secured_legs[leg_id][6] = "spare"

    def _on_BlockQuotePosted(self, _: int, e: contract.BlockQuotePosted) -> None:
        expires = datetime.fromisoformat(e.expires_at) if e.expires_at else None
        self.block_quotes[e.quote_id] = [
            e.quote_id, e.instrument_id, e.member, e.side, e.counterparty,
            e.counterparty is not None, "open", e.price, e.quantity, e.member, e.leg_id, None,
            None, expires,
        ]  # fmt: skip
        self.block_offers.append((e.quote_id, 1, e.member, e.price, e.quantity))
        amount = e.quantity if e.side == "sell" else e.price * e.quantity
        self._leg(e.leg_id, e.quote_id, e.member, e.hold_id, e.reservation_id, amount)

    def _party_leg(
        self, quote: list[Any], member: str, leg_id: str, hold: Any, reservation: Any
    ) -> None:
        """`member`'s leg in the negotiation is `leg_id`: a new one replaces (spares) its old."""
        column = 10 if member == quote[2] else 11
        if leg_id not in self.secured_legs:
            sells = (member == quote[2]) == (quote[3] == "sell")
            amount = quote[8] if sells else quote[7] * quote[8]
            self._leg(leg_id, quote[0], member, hold, reservation, amount)
            self._spare(quote[column])
        quote[column] = leg_id

    def _on_BlockQuoteCountered(self, _: int, e: contract.BlockQuoteCountered) -> None:
        quote = self.block_quotes[e.quote_id]
        quote[4] = quote[4] or e.member
        quote[7:10] = [e.price, e.quantity, e.member]
        self.block_offers.append((e.quote_id, e.offer, e.member, e.price, e.quantity))
        self._party_leg(quote, e.member, e.leg_id, e.hold_id, e.reservation_id)

    def _on_BlockQuoteAccepted(self, _: int, e: contract.BlockQuoteAccepted) -> None:
        quote = self.block_quotes[e.quote_id]
        quote[4] = quote[4] or e.member
        self._party_leg(quote, e.member, e.leg_id, e.hold_id, e.reservation_id)
        self._spare(quote[10], quote[11])
        quote[6], quote[12] = "accepted", e.trade_id

    def _on_BlockQuoteClosed(self, _: int, e: contract.BlockQuoteClosed) -> None:
        quote = self.block_quotes[e.quote_id]
        quote[6] = e.reason
        self._spare(quote[10], quote[11])

    def _on_AuctionAnnounced(self, _: int, e: contract.AuctionAnnounced) -> None:
        self.auctions[e.auction_id] = [
            e.auction_id, e.instrument_id, e.seller, e.quantity, e.reserve_rule,
            e.reserve_price, e.cap_price, e.pricing, datetime.fromisoformat(e.bidding_opens),
            datetime.fromisoformat(e.bidding_closes), e.min_bid_quantity, e.hold_id, "bidding",
            None,
        ]  # fmt: skip
        self._leg(e.auction_id, e.auction_id, e.seller, e.hold_id, None, e.quantity)

    def _on_BidPlaced(self, sequence: int, e: contract.BidPlaced) -> None:
        self.bids[e.bid_id] = [
            e.bid_id, e.auction_id, e.member, e.price, e.quantity, sequence, "active", e.leg_id,
            e.reservation_id, None, None, None,
        ]  # fmt: skip
        self._leg(e.leg_id, e.auction_id, e.member, None, e.reservation_id, e.price * e.quantity)

    def _on_BidAmended(self, sequence: int, e: contract.BidAmended) -> None:
        bid = self.bids[e.bid_id]
        self._spare(bid[7])
        bid[3:6] = [e.price, e.quantity, sequence]
        bid[7:9] = [e.leg_id, e.reservation_id]
        self._leg(e.leg_id, e.auction_id, bid[2], None, e.reservation_id, e.price * e.quantity)

    def _on_BidWithdrawn(self, _: int, e: contract.BidWithdrawn) -> None:
        bid = self.bids[e.bid_id]
        bid[6] = "withdrawn"
        self._spare(bid[7])

    def _on_AuctionAllocated(self, _: int, e: contract.AuctionAllocated) -> None:
        auction = self.auctions[e.auction_id]
        auction[12:14] = ["allocated", e.unsold]
        for allocation in e.allocations:
            bid = self.bids[allocation.bid_id]
            bid[6] = "won"
            bid[9:12] = [allocation.quantity, allocation.price, allocation.trade_id]
        self._spare(e.auction_id)
        for bid in self.bids.values():
            if bid[1] == e.auction_id and bid[6] in ("active", "won"):
                bid[6] = "won" if bid[6] == "won" else "lost"
                self._spare(bid[7])

    def _on_LegReleased(self, _: int, e: contract.LegReleased) -> None:
        self.secured_legs[e.leg_id][6] = "released"

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        if self.expected_fills:
            raise ReplayMismatch(f"the book replays to fills the log lacks: {self.expected_fills}")
        instruments = [(*r[:9], _canonical(r[9]), *r[10:]) for r in self.instruments.values()]
        return {
            "instruments": sorted(instruments),
            "members": sorted(self.members.values()),
            "listings": sorted(tuple(r) for r in self.listings.values()),
            "orders": sorted(tuple(r) for r in self.orders.values()),
            "trades": sorted(tuple(r) for r in self.trades.values()),
            "block_quotes": sorted(tuple(r) for r in self.block_quotes.values()),
            "block_offers": sorted(self.block_offers),
            "auctions": sorted(tuple(r) for r in self.auctions.values()),
            "bids": sorted(tuple(r) for r in self.bids.values()),
            "secured_legs": sorted(tuple(r) for r in self.secured_legs.values()),
        }


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def live_rows(table: str, rows: list[Any]) -> list[tuple[Any, ...]]:
    """A live table's compared columns as the replay builds them (sessions: canonical JSON)."""
    if table != "instruments":
        return sorted(tuple(r) for r in rows)
    return sorted((*tuple(r[:9]), _canonical(json.loads(r[9])), *tuple(r[10:])) for r in rows)
