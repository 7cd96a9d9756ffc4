"""An instrument's trading rules: what may be offered, at which prices, and when.

Pure: the clock is an argument (an aware datetime), so any session can be tested at any hour.
Prices are integer fen, quantities whole tonnes. The price band is a percentage around the
reference price (the previous close; the operator's price before the first close), rounded
inwards to the tick so that every price in the band is a valid price.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from libs.problems import Problem
from services.matching.domain.calendar import (
    DEFAULT_SESSIONS,
    EXCHANGE_TIME,
    MarketClosed,
    Sessions,
)

__all__ = ["DEFAULT_SESSIONS", "EXCHANGE_TIME", "MarketClosed", "Sessions"]

MarketModel = Literal["listing", "continuous"]
ReserveRule = Literal["previous_close", "previous_close_minus_10pct"]
RESERVE_DISCOUNT_PERCENT = 10  # `previous_close_minus_10pct`


class PriceOutsideBand(Problem):
    status, slug, title = 409, "price-outside-band", "The price is outside the instrument's band"


class PriceOffTick(Problem):
    status, slug, title = 422, "price-off-tick", "The price is not a multiple of the tick"


class QuantityOffLot(Problem):
    status, slug, title = 422, "quantity-off-lot", "The quantity is not a multiple of the lot"


class QuantityOverLimit(Problem):
    status, slug, title = 409, "quantity-over-limit", "The quantity is over the instrument's limit"


class InvalidInstrument(Problem):
    status, slug, title = 422, "invalid-instrument", "The instrument's terms are not valid"


class InstrumentHalted(Problem):
    status, slug, title = 409, "instrument-halted", "Trading in this instrument is halted"


class QuantityUnderMinimum(Problem):
    status, slug, title = 409, "quantity-under-minimum", "The quantity is under the minimum"


class InvalidAuctionWindow(Problem):
    status, slug, title = 422, "invalid-auction-window", "The bidding window is not valid"


@dataclass(frozen=True)
class Instrument:
    program: str
    vintage: int
    market_model: MarketModel
    reference_price: int  # fen: the previous close, or the operator's price before the first
    tick: int = 1  # fen
    lot: int = 1  # t
    band_percent: int = 10
    max_quantity: int = 99_999  # t per order or listing
    sessions: Sessions = field(default_factory=Sessions)
    halted: bool = False
    block_min_quantity: int = 100_000  # t: the block agreement (大宗协议) starts here
    block_band_percent: int = 30
    auction_min_quantity: int = 100_000  # t offered in a one-way auction (单向竞价)
    auction_cap_percent: int = 10  # bids at most the previous close plus this

    def __post_init__(self) -> None:
        if min(self.tick, self.lot, self.reference_price) <= 0:
            raise InvalidInstrument("tick, lot and reference price must be positive")
        percents = (self.band_percent, self.block_band_percent, self.auction_cap_percent)
        if not all(0 < p < 100 for p in percents):
            raise InvalidInstrument("bands are percentages between 0 and 100")
        if self.reference_price % self.tick:
            raise InvalidInstrument("the reference price must be on the tick")
        if self.max_quantity < self.lot:
            raise InvalidInstrument("the quantity limit must allow at least one lot")
        if min(self.block_min_quantity, self.auction_min_quantity) < self.lot:
            raise InvalidInstrument("the block and auction minimums must be at least one lot")

    @property
    def id(self) -> str:
        return f"{self.program}-{self.vintage}"

    def band(self, percent: int | None = None) -> tuple[int, int]:
        """The lowest and highest acceptable prices, each on the tick, `percent` (default: the
        listing band) around the reference price."""
        percent = self.band_percent if percent is None else percent
        low = -(-self.reference_price * (100 - percent) // 100)  # ceiling
        high = self.reference_price * (100 + percent) // 100
        low = -(-low // self.tick) * self.tick
        high = high // self.tick * self.tick
        return max(low, self.tick), high

    def check(self, price: int | None, quantity: int, moment: datetime) -> None:
        """Raise the problem that forbids offering `quantity` at `price` (None: at market)
        now, if any. In the order a member would want to hear them."""
        self.check_not_halted()
        self.sessions.check_open(self.id, moment)
        self.check_lot(quantity)
        if quantity > self.max_quantity:
            raise QuantityOverLimit(f"{quantity} t is over the limit of {self.max_quantity} t")
        if price is not None:
            self.check_price(price, self.band())

    def check_block(self, price: int, quantity: int, moment: datetime) -> None:
        """The block agreement's rules: its window, its minimum, its wider band."""
        self.check_not_halted()
        self.sessions.check_open(f"{self.id}'s block window", moment, [self.sessions.block_window])
        self.check_lot(quantity)
        if quantity < self.block_min_quantity:
            raise QuantityUnderMinimum(
                f"a block trade is at least {self.block_min_quantity} t",
                minimum=self.block_min_quantity,
            )
        self.check_price(price, self.band(self.block_band_percent))

    def check_auction(
        self, quantity: int, opens: datetime, closes: datetime, moment: datetime
    ) -> None:
        """An auction of `quantity` t bid for from `opens` to `closes`, announced at `moment`."""
        self.check_not_halted()
        self.check_lot(quantity)
        if quantity < self.auction_min_quantity:
            raise QuantityUnderMinimum(
                f"an auction offers at least {self.auction_min_quantity} t",
                minimum=self.auction_min_quantity,
            )
        if not opens < closes or closes <= moment:
            raise InvalidAuctionWindow("bidding must close after it opens, and in the future")
        for edge in (opens, closes):
            self.sessions.check_trading_day(f"{self.id}'s auction", edge)

    def auction_prices(self, reserve: ReserveRule) -> tuple[int, int]:
        """(reserve, cap): the lowest and highest bid an auction accepts, on the tick."""
        cap = self.band(self.auction_cap_percent)[1]
        if reserve == "previous_close":
            return self.reference_price, cap
        return self.band(RESERVE_DISCOUNT_PERCENT)[0], cap

    def check_not_halted(self) -> None:
        if self.halted:
            raise InstrumentHalted(f"{self.id} is halted")

    def check_lot(self, quantity: int) -> None:
        if quantity % self.lot:
            raise QuantityOffLot(f"{quantity} t is not a multiple of the lot of {self.lot} t")

    def check_price(self, price: int, band: tuple[int, int]) -> None:
        if price % self.tick:
            raise PriceOffTick(f"{price} fen is not a multiple of the tick of {self.tick} fen")
        low, high = band
        if not low <= price <= high:
            raise PriceOutsideBand(f"{price} fen is outside {low}–{high} fen", band=[low, high])

    def halt(self) -> Instrument:
        return replace(self, halted=True)

    def resume(self) -> Instrument:
        return replace(self, halted=False)

    def with_reference(self, price: int) -> Instrument:
        """The next day's instrument: its band around the new reference (the close)."""
        return replace(self, reference_price=price)
