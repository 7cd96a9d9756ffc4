"""Daily bars (OHLCV) and the close, as the exchange's rules define them.

The close of a day is the volume-weighted average price of that day's listing-agreement
trades, rounded to the fen (half up); a day without such trades closes at the previous close.
Prices are integer fen, volumes whole tonnes, turnover fen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

# The trade modes whose prices make the close: the listing agreement's and, for an instrument on
# the continuous book, its own; block trades and auctions do not.
CLOSING_MODES = ("listing", "continuous")


@dataclass(frozen=True)
class Trade:
    day: date
    price: int  # fen
    quantity: int  # t
    listing: bool = True  # a listing-agreement trade (counts for the close)


@dataclass(frozen=True)
class Bar:
    day: date
    open: int | None
    high: int | None
    low: int | None
    close: int
    volume: int
    turnover: int
    vwap: int | None  # of all the day's trades


def vwap(trades: Sequence[Trade]) -> int | None:
    return rounded_vwap(sum(t.price * t.quantity for t in trades), sum(t.quantity for t in trades))


def rounded_vwap(turnover: int, volume: int) -> int | None:
    """Turnover (fen) over volume (t), rounded half up to the fen, in integers."""
    if not volume:
        return None
    return (2 * turnover + volume) // (2 * volume)


def daily_bars(trades: Sequence[Trade], first_close: int) -> list[Bar]:
    """One bar per day that has trades, in day order; `first_close` is the close before the
    first day (the instrument's reference price). Trades are taken in the order given within
    a day (the log's order), for the open."""
    by_day: dict[date, list[Trade]] = {}
    for trade in trades:
        by_day.setdefault(trade.day, []).append(trade)
    bars: list[Bar] = []
    previous = first_close
    for day in sorted(by_day):
        todays = by_day[day]
        prices = [t.price for t in todays]
        close = vwap([t for t in todays if t.listing])
        bar = Bar(
            day=day,
            open=prices[0],
            high=max(prices),
            low=min(prices),
            close=previous if close is None else close,
            volume=sum(t.quantity for t in todays),
            turnover=sum(t.price * t.quantity for t in todays),
            vwap=vwap(todays),
        )
        bars.append(bar)
        previous = bar.close
    return bars
