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
from typing import Any

from libs.events.catalog import EventPayload
from libs.events.contract import matching as contract
from services.matching.domain.book import Order, OrderBook

# The columns compared, per table, in this order.
COLUMNS = {
    "instruments": "id, program, vintage, market_model, reference_price, tick, lot, band_percent,"
    " max_quantity, sessions, halted",
    "members": "org, registry_account, cash_account",
    "listings": "id, instrument_id, side, member, price, quantity, remaining, status, hold_id,"
    " reservation_id",
    "orders": "id, instrument_id, member, side, type, price, quantity, remaining, time_in_force,"
    " status, legs_released, hold_id, reservation_id, sequence",
    "trades": "id, instrument_id, mode, price, quantity, buyer, seller, listing_id, taker_side,"
    " seller_hold_id, buyer_reservation_id, status, delivered_hold_id, failed_leg,"
    " failure_reason, sequence, taker_order_id",
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

    def apply(self, sequence: int, event: EventPayload) -> None:
        handler = getattr(self, f"_on_{type(event).__name__}", None)
        if handler is not None:
            handler(sequence, event)

    def _on_InstrumentListed(self, _: int, e: contract.InstrumentListed) -> None:
        sessions = e.sessions.model_dump(mode="json")
        self.instruments[e.instrument_id] = [
            e.instrument_id, e.program, e.vintage, e.market_model, e.reference_price, e.tick,
            e.lot, e.band_percent, e.max_quantity, sessions, False,
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
            left = book.get(fill.maker)
            self.orders[fill.maker][7] = left.remaining if left else 0
            self.orders[fill.maker][9] = "open" if left else "filled"
        for cancelled in outcome.self_trade_cancelled:
            self.orders[cancelled.id][9] = "cancelled"

    def _on_OrderCancelled(self, _: int, e: contract.OrderCancelled) -> None:
        if e.reason == "cancelled":  # self-trade cancellations replay with the order's submit
            order = self.orders[e.order_id]
            self.books[order[1]].cancel(e.order_id)
            order[9] = "cancelled"

    def _on_OrderReleased(self, _: int, e: contract.OrderReleased) -> None:
        self.orders[e.order_id][10] = True

    def _on_TradeExecuted(self, sequence: int, e: contract.TradeExecuted) -> None:
        self.trades[e.trade_id] = [
            e.trade_id, e.instrument_id, e.mode, e.price, e.quantity, e.buyer, e.seller,
            e.listing_id, e.taker_side, e.seller_hold_id, e.buyer_reservation_id, "executed",
            None, None, None, sequence, e.taker_order_id,
        ]  # fmt: skip
        if e.mode == "continuous":
            fill = (e.listing_id, e.taker_order_id, e.price, e.quantity)
            if not self.expected_fills or self.expected_fills.pop(0) != fill:
                raise ReplayMismatch(f"{e.trade_id}: the book does not replay to this fill")
            return
        listing = self.listings[e.listing_id]
        listing[6] -= e.quantity
        listing[7] = "open" if listing[6] else "filled"

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

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        if self.expected_fills:
            raise ReplayMismatch(f"the book replays to fills the log lacks: {self.expected_fills}")
        instruments = [(*tuple(r[:9]), _canonical(r[9]), r[10]) for r in self.instruments.values()]
        return {
            "instruments": sorted(instruments),
            "members": sorted(self.members.values()),
            "listings": sorted(tuple(r) for r in self.listings.values()),
            "orders": sorted(tuple(r) for r in self.orders.values()),
            "trades": sorted(tuple(r) for r in self.trades.values()),
        }


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def live_rows(table: str, rows: list[Any]) -> list[tuple[Any, ...]]:
    """A live table's compared columns as the replay builds them (sessions: canonical JSON)."""
    if table != "instruments":
        return sorted(tuple(r) for r in rows)
    return sorted((*tuple(r[:9]), _canonical(json.loads(r[9])), r[10]) for r in rows)
