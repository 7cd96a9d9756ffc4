"""Events of the matching service (topic `tanhui.matching`, source `tanhui/matching`).

Streams: `instrument/<id>`, `member/<org>`, `listing/<id>`, `trade/<id>`. Prices are integer
fen, quantities whole tonnes. A trade's legs are secured before it exists: the seller's units
escrowed in the registry (`seller_hold_id`), the buyer's cash reserved at the settlement system
(`buyer_reservation_id`); `TradeSettled` / `TradeFailed` close it (docs/events.md).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from libs.events.catalog import EventCatalog, EventPayload, Quantity

catalog = EventCatalog("matching")

Side = Literal["buy", "sell"]
MarketModel = Literal["listing", "continuous"]


class SessionTerms(BaseModel):
    """Trading windows in Asia/Shanghai on weekdays less holidays, or always."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    windows: list[tuple[str, str]]  # ("09:30", "11:30")
    holidays: list[str]  # ISO dates
    always: bool


@catalog.event("InstrumentListed", version=1)
class InstrumentListed(EventPayload):
    instrument_id: str
    program: str
    vintage: int
    market_model: MarketModel
    reference_price: Quantity
    tick: Quantity
    lot: Quantity
    band_percent: int
    max_quantity: Quantity
    sessions: SessionTerms


@catalog.event("InstrumentHalted", version=1)
class InstrumentHalted(EventPayload):
    instrument_id: str
    reason: str


@catalog.event("InstrumentResumed", version=1)
class InstrumentResumed(EventPayload):
    instrument_id: str


@catalog.event("MemberAdmitted", version=1)
class MemberAdmitted(EventPayload):
    org: str
    registry_account: str
    cash_account: str


@catalog.event("ListingPosted", version=1)
class ListingPosted(EventPayload):
    """A listing with its leg secured: a sell's units escrowed, a buy's cash reserved."""

    listing_id: str
    instrument_id: str
    side: Side
    member: str
    price: Quantity
    quantity: Quantity
    hold_id: str | None = None
    reservation_id: str | None = None


@catalog.event("ListingWithdrawn", version=1)
class ListingWithdrawn(EventPayload):
    """Taken off the market with `remaining` t unsold; its escrow or reservation is released
    next (`ListingReleased`)."""

    listing_id: str
    remaining: Quantity


@catalog.event("ListingReleased", version=1)
class ListingReleased(EventPayload):
    listing_id: str


@catalog.event("OrderAccepted", version=1)
class OrderAccepted(EventPayload):
    """An order on the continuous book, its leg secured (a sell's units escrowed, a buy's cash
    reserved). Replaying these and the cancellations in log order rebuilds the book."""

    order_id: str
    instrument_id: str
    member: str
    side: Side
    type: Literal["limit", "market"]
    price: Quantity | None = None
    quantity: Quantity
    time_in_force: Literal["GTC", "IOC", "FOK"]
    hold_id: str | None = None
    reservation_id: str | None = None


@catalog.event("OrderCancelled", version=1)
class OrderCancelled(EventPayload):
    """Taken out of the book: by its member, or by self-trade prevention."""

    order_id: str
    remaining: Quantity
    reason: Literal["cancelled", "self-trade"]


@catalog.event("OrderReleased", version=1)
class OrderReleased(EventPayload):
    """A closed order's escrow or reservation released (what its trades did not use)."""

    order_id: str


@catalog.event("TradeExecuted", version=1)
class TradeExecuted(EventPayload):
    """`listing_id`: the listing taken (its remaining falls by `quantity`) and the taker's own
    leg secured for this trade alone; or, on the continuous book, the resting order, with the
    incoming one in `taker_order_id` (both orders' legs serve all their trades)."""

    trade_id: str
    instrument_id: str
    mode: MarketModel
    price: Quantity
    quantity: Quantity
    buyer: str
    seller: str
    buyer_registry_account: str
    buyer_cash_account: str
    seller_registry_account: str
    seller_cash_account: str
    listing_id: str
    taker_side: Side
    seller_hold_id: str
    buyer_reservation_id: str
    trading_day: str
    taker_order_id: str | None = (
        None  # continuous: the incoming order (`listing_id`: the resting one)
    )


@catalog.event("TradeSettled", version=1)
class TradeSettled(EventPayload):
    """Units delivered to the buyer and cash to the seller, each exactly once."""

    trade_id: str
    delivered_hold_id: str


@catalog.event("TradeFailed", version=1)
class TradeFailed(EventPayload):
    """A leg was refused; everything done was undone (units back with the seller, cash with
    the buyer) and the listing offers the quantity again."""

    trade_id: str
    leg: Literal["units", "cash"]
    reason: str
