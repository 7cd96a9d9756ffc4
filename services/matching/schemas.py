"""Request and response bodies of the matching API (docs/rest.md). Prices in fen, quantities in t."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

Side = Literal["buy", "sell"]
ORG = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
MAX_PRICE = 10**9  # fen per t: ten million yuan
MAX_QUANTITY = 10**9


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionWindow(Strict):
    start: time
    end: time

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: time, info: object) -> time:
        start = getattr(info, "data", {}).get("start")
        if start is not None and end <= start:
            raise ValueError("a session ends after it starts")
        return end


class SessionsIn(Strict):
    windows: list[SessionWindow] | None = Field(
        default=None, min_length=1, max_length=6, description="default 09:30–11:30, 13:00–15:00"
    )
    holidays: list[date] = Field(default_factory=list, max_length=400)
    block_window: SessionWindow | None = Field(
        default=None, description="block agreement quotes; default 13:00–15:00"
    )


class CreateInstrument(Strict):
    program: Literal["YRDPH", "CCER"]
    vintage: int = Field(ge=2000, le=2100)
    market_model: Literal["listing", "continuous"]
    reference_price: int = Field(gt=0, le=MAX_PRICE, description="fen per t")
    tick: int = Field(default=1, gt=0, le=MAX_PRICE, description="fen")
    lot: int = Field(default=1, gt=0, le=MAX_QUANTITY, description="t")
    band_percent: int = Field(default=10, gt=0, lt=100)
    max_quantity: int = Field(default=99_999, gt=0, le=MAX_QUANTITY, description="t per listing")
    sessions: SessionsIn | Literal["always"] | None = Field(
        default=None, description='Asia/Shanghai trading sessions, or "always" (pilots, make run)'
    )
    block_min_quantity: int = Field(default=100_000, gt=0, le=MAX_QUANTITY, description="t")
    block_band_percent: int = Field(default=30, gt=0, lt=100)
    auction_min_quantity: int = Field(default=100_000, gt=0, le=MAX_QUANTITY, description="t")
    auction_cap_percent: int = Field(
        default=10, gt=0, lt=100, description="bids at most the previous close plus this"
    )


class InstrumentView(BaseModel):
    id: str
    program: str
    vintage: int
    market_model: str
    reference_price: int
    tick: int
    lot: int
    band_percent: int
    band: list[int] = Field(description="[lowest, highest] acceptable price, fen")
    max_quantity: int
    sessions: dict[str, object]
    halted: bool
    block_min_quantity: int
    block_band_percent: int
    auction_min_quantity: int
    auction_cap_percent: int
    listed_at: datetime


class HaltInstrument(Strict):
    reason: str = Field(min_length=1, max_length=500)


class NoBody(Strict):
    pass


class AdmitMember(Strict):
    org: str = Field(pattern=ORG)
    registry_account: str = Field(min_length=1, max_length=100)
    cash_account: str = Field(pattern=ORG)


class MemberView(BaseModel):
    org: str
    registry_account: str
    cash_account: str
    admitted_at: datetime


class PostListing(Strict):
    instrument: str = Field(min_length=1, max_length=100)
    side: Side
    price: int = Field(gt=0, le=MAX_PRICE, description="fen per t")
    quantity: int = Field(gt=0, le=MAX_QUANTITY, description="t")


class ListingView(BaseModel):
    id: str
    instrument: str
    side: Side
    member: str
    price: int
    quantity: int
    remaining: int
    status: str
    posted_at: datetime


class PublicListing(BaseModel):
    id: str
    remaining: int
    posted_at: datetime


class LevelView(BaseModel):
    price: int
    quantity: int
    listings: list[PublicListing]


class ListingsBoard(BaseModel):
    instrument: str
    side: Side
    levels: list[LevelView] = Field(description="the best five price levels, best first")


class TakeListing(Strict):
    quantity: int = Field(gt=0, le=MAX_QUANTITY, description="t")


class TradeView(BaseModel):
    trade_id: str
    instrument: str
    mode: str
    price: int
    quantity: int
    amount: int = Field(description="price × quantity, fen")
    buyer: str
    seller: str
    listing_id: str
    status: Literal["executed", "settled", "failed"]
    failed_leg: str | None = None
    failure_reason: str | None = None
    executed_at: datetime
    closed_at: datetime | None = None


class TradePage(BaseModel):
    items: list[TradeView]
    next_cursor: str | None


class QuoteView(BaseModel):
    instrument: str
    best_bid: int | None
    best_ask: int | None
    last: int | None
    reference_price: int = Field(
        description="the previous close, or the operator's price before any"
    )
    band: list[int]
    halted: bool


class PublicTrade(BaseModel):
    trade_id: str
    price: int
    quantity: int
    mode: str
    time: datetime


class PublicTradePage(BaseModel):
    items: list[PublicTrade]
    next_cursor: str | None


class BarView(BaseModel):
    date: date
    open: int | None
    high: int | None
    low: int | None
    close: int
    volume: int
    turnover: int
    vwap: int | None


class DailyBars(BaseModel):
    instrument: str
    days: list[BarView]


class DepthLevel(BaseModel):
    price: int
    quantity: int
    listings: int


class DepthView(BaseModel):
    instrument: str
    bids: list[DepthLevel]
    asks: list[DepthLevel]


class PlaceOrder(Strict):
    instrument: str = Field(min_length=1, max_length=100)
    side: Side
    type: Literal["limit", "market"] = "limit"
    price: int | None = Field(default=None, gt=0, le=MAX_PRICE, description="fen; none for market")
    quantity: int = Field(gt=0, le=MAX_QUANTITY, description="t")
    time_in_force: Literal["GTC", "IOC", "FOK"] = "GTC"

    @field_validator("price")
    @classmethod
    def _price_for_limit_only(cls, price: int | None, info: object) -> int | None:
        kind = getattr(info, "data", {}).get("type")
        if kind == "limit" and price is None:
            raise ValueError("a limit order needs a price")
        if kind == "market" and price is not None:
            raise ValueError("a market order has no price")
        return price


class OrderView(BaseModel):
    id: str
    instrument: str
    member: str
    side: Side
    type: str
    price: int | None
    quantity: int
    remaining: int = Field(description="resting in the book")
    time_in_force: str
    status: Literal["open", "filled", "cancelled"]
    trades: list[str] = Field(default_factory=list, description="trades this request made")
    posted_at: datetime


class BookLevel(BaseModel):
    price: int
    quantity: int
    orders: int


class BookView(BaseModel):
    instrument: str
    bids: list[BookLevel]
    asks: list[BookLevel]


class BlockTerms(Strict):
    price: int = Field(gt=0, le=MAX_PRICE, description="fen per t")
    quantity: int = Field(gt=0, le=MAX_QUANTITY, description="t")


class PostBlockQuote(BlockTerms):
    instrument: str = Field(min_length=1, max_length=100)
    side: Side
    counterparty: str | None = Field(
        default=None, pattern=ORG, description="propose to this member alone (others never see it)"
    )


class BlockOfferView(BaseModel):
    number: int
    member: str
    price: int
    quantity: int
    offered_at: datetime


class BlockQuoteView(BaseModel):
    id: str
    instrument: str
    maker: str
    side: Side = Field(description="the maker's side")
    counterparty: str | None
    directed: bool
    status: Literal["open", "accepted", "withdrawn", "expired"]
    price: int = Field(description="the latest offer's, fen per t")
    quantity: int = Field(description="the latest offer's, t")
    last_offer_by: str
    offers: list[BlockOfferView] = Field(description="the dialogue, oldest first")
    trade_id: str | None
    expires_at: datetime | None = Field(description="the end of the block window")
    posted_at: datetime


class AnnounceAuction(Strict):
    instrument: str = Field(min_length=1, max_length=100)
    quantity: int = Field(gt=0, le=MAX_QUANTITY, description="t offered, escrowed at once")
    reserve: Literal["previous_close", "previous_close_minus_10pct"]
    pricing: Literal["uniform", "pay_as_bid"]
    bidding_opens: AwareDatetime
    bidding_closes: AwareDatetime
    min_bid_quantity: int | None = Field(
        default=None, gt=0, le=MAX_QUANTITY, description="t; default one lot"
    )


class AuctionView(BaseModel):
    id: str
    instrument: str
    seller: str
    quantity: int
    reserve_rule: str
    reserve_price: int = Field(description="the lowest acceptable bid, fen per t")
    cap_price: int = Field(description="the highest acceptable bid, fen per t")
    pricing: str
    bidding_opens: datetime
    bidding_closes: datetime
    min_bid_quantity: int
    status: Literal["bidding", "allocated"]
    unsold: int | None
    announced_at: datetime


class BidTerms(Strict):
    price: int = Field(gt=0, le=MAX_PRICE, description="fen per t")
    quantity: int = Field(gt=0, le=MAX_QUANTITY, description="t")


class BidView(BaseModel):
    id: str
    auction_id: str
    member: str
    price: int
    quantity: int
    status: Literal["active", "withdrawn", "won", "lost"]
    allocated: int | None
    paid_price: int | None
    trade_id: str | None
    placed_at: datetime


class AllocationView(BaseModel):
    bid_id: str
    member: str
    quantity: int
    price: int
    trade_id: str


class AuctionResult(BaseModel):
    auction_id: str
    status: Literal["bidding", "allocated"]
    allocations: list[AllocationView]
    unsold: int | None = Field(description="t back to the seller; null until allocated")
