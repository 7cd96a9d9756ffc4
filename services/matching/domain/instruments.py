"""An instrument's trading rules: what may be offered, at which prices, and when.

Pure: the clock is an argument (an aware datetime), so any session can be tested at any hour.
Prices are integer fen, quantities whole tonnes. The price band is a percentage around the
reference price (the previous close; the operator's price before the first close), rounded
inwards to the tick so that every price in the band is a valid price.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from libs.problems import Problem

MarketModel = Literal["listing", "continuous"]
EXCHANGE_TIME = ZoneInfo("Asia/Shanghai")
# The exchange's continuous sessions on trading days (Asia/Shanghai).
DEFAULT_SESSIONS: tuple[tuple[time, time], ...] = (
    (time(9, 30), time(11, 30)),
    (time(13, 0), time(15, 0)),
)


class PriceOutsideBand(Problem):
    status, slug, title = 409, "price-outside-band", "The price is outside the instrument's band"


class PriceOffTick(Problem):
    status, slug, title = 422, "price-off-tick", "The price is not a multiple of the tick"


class QuantityOffLot(Problem):
    status, slug, title = 422, "quantity-off-lot", "The quantity is not a multiple of the lot"


class QuantityOverLimit(Problem):
    status, slug, title = 409, "quantity-over-limit", "The quantity is over the instrument's limit"


class MarketClosed(Problem):
    status, slug, title = 409, "market-closed", "The market is closed for this instrument"


class InvalidInstrument(Problem):
    status, slug, title = 422, "invalid-instrument", "The instrument's terms are not valid"


class InstrumentHalted(Problem):
    status, slug, title = 409, "instrument-halted", "Trading in this instrument is halted"


@dataclass(frozen=True)
class Sessions:
    """When an instrument trades: windows on weekdays that are not holidays, or always."""

    windows: tuple[tuple[time, time], ...] = DEFAULT_SESSIONS
    holidays: frozenset[date] = field(default_factory=frozenset)
    always: bool = False  # pilots and local runs

    def open_at(self, moment: datetime) -> bool:
        if self.always:
            return True
        local = moment.astimezone(EXCHANGE_TIME)
        if local.weekday() >= 5 or local.date() in self.holidays:
            return False
        now = local.time()
        return any(start <= now < end for start, end in self.windows)

    def trading_day(self, moment: datetime) -> date:
        """The exchange's calendar day of `moment` (a trade's day, for bars and resale)."""
        return moment.astimezone(EXCHANGE_TIME).date()


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

    def __post_init__(self) -> None:
        if min(self.tick, self.lot, self.reference_price) <= 0:
            raise InvalidInstrument("tick, lot and reference price must be positive")
        if not 0 < self.band_percent < 100:
            raise InvalidInstrument("the band is a percentage between 0 and 100")
        if self.reference_price % self.tick:
            raise InvalidInstrument("the reference price must be on the tick")
        if self.max_quantity < self.lot:
            raise InvalidInstrument("the quantity limit must allow at least one lot")

    @property
    def id(self) -> str:
        return f"{self.program}-{self.vintage}"

    def band(self) -> tuple[int, int]:
        """The lowest and highest acceptable prices, each on the tick."""
        low = -(-self.reference_price * (100 - self.band_percent) // 100)  # ceiling
        high = self.reference_price * (100 + self.band_percent) // 100
        low = -(-low // self.tick) * self.tick
        high = high // self.tick * self.tick
        return max(low, self.tick), high

    def check(self, price: int | None, quantity: int, moment: datetime) -> None:
        """Raise the problem that forbids offering `quantity` at `price` (None: at market)
        now, if any. In the order a member would want to hear them."""
        if self.halted:
            raise InstrumentHalted(f"{self.id} is halted")
        if not self.sessions.open_at(moment):
            raise MarketClosed(f"{self.id} is not in a trading session")
        if quantity % self.lot:
            raise QuantityOffLot(f"{quantity} t is not a multiple of the lot of {self.lot} t")
        if quantity > self.max_quantity:
            raise QuantityOverLimit(f"{quantity} t is over the limit of {self.max_quantity} t")
        if price is None:
            return
        if price % self.tick:
            raise PriceOffTick(f"{price} fen is not a multiple of the tick of {self.tick} fen")
        low, high = self.band()
        if not low <= price <= high:
            raise PriceOutsideBand(f"{price} fen is outside {low}–{high} fen", band=[low, high])

    def halt(self) -> Instrument:
        return replace(self, halted=True)

    def resume(self) -> Instrument:
        return replace(self, halted=False)

    def with_reference(self, price: int) -> Instrument:
        """The next day's instrument: its band around the new reference (the close)."""
        return replace(self, reference_price=price)
