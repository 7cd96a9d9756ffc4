"""Events of the matching service (topic `tanhui.matching`, source `tanhui/matching`).

Streams: `instrument/<id>`, `member/<org>`, `listing/<id>`, `order/<id>`, `trade/<id>`,
`settlement-batch/<id>`, `block-quote/<id>`, `auction/<id>`, `bid/<id>`, `leg/<id>`. Prices are integer
fen, quantities whole tonnes. A trade's legs are secured before it exists: the seller's units
escrowed in the registry (`seller_hold_id`), the buyer's cash reserved at the settlement system
(`buyer_reservation_id`); `TradeSettled` / `TradeFailed` close it (docs/events.md).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from libs.events.catalog import EventCatalog, EventPayload, Quantity

catalog = EventCatalog("matching")

Side = Literal["buy", "sell"]
MarketModel = Literal["listing", "continuous"]
TradeMode = Literal["listing", "continuous", "block", "auction"]
Percent = Annotated[int, Field(gt=0, lt=100)]


class SessionTerms(BaseModel):
    """Trading windows in Asia/Shanghai on weekdays less holidays, or always."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    windows: list[tuple[str, str]]  # ("09:30", "11:30")
    holidays: list[str]  # ISO dates
    always: bool
    block_window: tuple[str, str] = ("13:00", "15:00")  # block agreement quotes and acceptances


@catalog.event("InstrumentListed", version=2)
class InstrumentListed(EventPayload):
    """v2 added the block agreement's and the one-way auction's terms."""

    instrument_id: str
    program: str
    vintage: int
    market_model: MarketModel
    reference_price: Quantity
    tick: Quantity
    lot: Quantity
    band_percent: Percent
    max_quantity: Quantity
    sessions: SessionTerms
    block_min_quantity: Quantity
    block_band_percent: Percent
    auction_min_quantity: Quantity
    auction_cap_percent: Percent


@catalog.upcaster("InstrumentListed", from_version=1)
def _instrument_terms_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Instruments listed before block trades and auctions existed get the exchange's defaults
    (and the default block window, which `SessionTerms` fills in)."""
    defaults = {
        "block_min_quantity": 100_000,
        "block_band_percent": 30,
        "auction_min_quantity": 100_000,
        "auction_cap_percent": 10,
    }
    return defaults | data


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
    incoming one in `taker_order_id` (both orders' legs serve all their trades); or the block
    quote accepted; or the auction, with the winning bid in `taker_order_id`."""

    trade_id: str
    instrument_id: str
    mode: TradeMode
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


@catalog.event("SettlementBatchOpened", version=1)
class SettlementBatchOpened(EventPayload):
    """Executed trades settled together: delivery versus payment sends each of its registry
    steps for all of them as one bulk request keyed by the batch, so the batch is fixed here,
    before the first step, and a step retried after a crash sends the same request."""

    batch_id: str
    trade_ids: list[str] = Field(min_length=1, max_length=10_000)


@catalog.event("TradeFailed", version=1)
class TradeFailed(EventPayload):
    """A leg was refused; everything done was undone (units back with the seller, cash with
    the buyer) and the listing offers the quantity again."""

    trade_id: str
    leg: Literal["units", "cash"]
    reason: str


@catalog.event("BlockQuotePosted", version=1)
class BlockQuotePosted(EventPayload):
    """A block agreement quote (大宗协议): public, or proposed to `counterparty` alone. The
    maker's leg (`leg_id`) is secured for its terms; it expires at `expires_at` (the end of the
    block window; None: the instrument trades always)."""

    quote_id: str
    instrument_id: str
    member: str
    side: Side
    counterparty: str | None = None
    price: Quantity
    quantity: Quantity
    leg_id: str
    hold_id: str | None = None
    reservation_id: str | None = None
    expires_at: str | None = None


@catalog.event("BlockQuoteCountered", version=1)
class BlockQuoteCountered(EventPayload):
    """New terms from the side that did not make the latest offer, its leg secured for them;
    the previous offer's leg is spare (released next). The first counter of a public quote
    makes `member` its counterparty."""

    quote_id: str
    offer: Quantity  # 2, 3, …: the offer's number in the dialogue
    member: str
    price: Quantity
    quantity: Quantity
    leg_id: str
    hold_id: str | None = None
    reservation_id: str | None = None


@catalog.event("BlockQuoteAccepted", version=1)
class BlockQuoteAccepted(EventPayload):
    """The latest offer accepted: `trade_id` (a `TradeExecuted` of mode `block` in the same
    transaction) uses the offer's leg and the accepter's (`leg_id`)."""

    quote_id: str
    member: str
    trade_id: str
    leg_id: str
    hold_id: str | None = None
    reservation_id: str | None = None


@catalog.event("BlockQuoteClosed", version=1)
class BlockQuoteClosed(EventPayload):
    """Ended without a trade: withdrawn by a party (or the operator), or expired at the end of
    the block window. Its leg is spare (released next)."""

    quote_id: str
    reason: Literal["withdrawn", "expired"]
    by: str | None = None


@catalog.event("AuctionAnnounced", version=1)
class AuctionAnnounced(EventPayload):
    """A one-way auction (单向竞价): the seller's `quantity` t escrowed (`hold_id`, leg
    `auction_id`); bids between the reserve and the cap (fen) from `bidding_opens` to
    `bidding_closes` (ISO 8601)."""

    auction_id: str
    instrument_id: str
    seller: str
    quantity: Quantity
    reserve_rule: Literal["previous_close", "previous_close_minus_10pct"]
    reserve_price: Quantity
    cap_price: Quantity
    pricing: Literal["uniform", "pay_as_bid"]
    bidding_opens: str
    bidding_closes: str
    min_bid_quantity: Quantity
    hold_id: str


@catalog.event("BidPlaced", version=1)
class BidPlaced(EventPayload):
    """A sealed bid, its price × quantity reserved (`reservation_id`, leg `leg_id`). Its time
    priority is this event's log position."""

    bid_id: str
    auction_id: str
    member: str
    price: Quantity
    quantity: Quantity
    leg_id: str
    reservation_id: str


@catalog.event("BidAmended", version=1)
class BidAmended(EventPayload):
    """New terms under a new reservation; the old one is spare. The bid queues again: its time
    priority is this event's log position."""

    bid_id: str
    auction_id: str
    price: Quantity
    quantity: Quantity
    leg_id: str
    reservation_id: str


@catalog.event("BidWithdrawn", version=1)
class BidWithdrawn(EventPayload):
    bid_id: str
    auction_id: str


class AuctionAllocation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    bid_id: str
    member: str
    quantity: Quantity
    price: Quantity
    trade_id: str


@catalog.event("AuctionAllocated", version=1)
class AuctionAllocated(EventPayload):
    """The call at the close: each allocation is a `TradeExecuted` of mode `auction` in the
    same transaction; the seller's escrow and every bid's reservation are spare from here
    (released once the trades using them closed: unsold units go back to the seller)."""

    auction_id: str
    allocations: list[AuctionAllocation]
    unsold: Quantity


@catalog.event("LegReleased", version=1)
class LegReleased(EventPayload):
    """A block quote's, auction's or bid's escrow or reservation released: what its trades
    did not use is back with its member."""

    leg_id: str
