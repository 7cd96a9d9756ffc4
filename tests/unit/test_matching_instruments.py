"""An instrument's band, ticks, lots, limits and sessions; daily bars and the close."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.marketdata.bars import Trade, daily_bars, vwap
from libs.problems import Problem
from services.matching.domain.instruments import (
    EXCHANGE_TIME,
    Instrument,
    InstrumentHalted,
    InvalidInstrument,
    MarketClosed,
    PriceOffTick,
    PriceOutsideBand,
    QuantityOffLot,
    QuantityOverLimit,
    Sessions,
)

MONDAY = date(2026, 12, 7)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment given in Asia/Shanghai time, expressed in UTC (as the service's clock gives)."""
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=EXCHANGE_TIME)
    return local.astimezone(UTC)


def instrument(**terms: object) -> Instrument:
    return Instrument("YRDPH", 2024, "listing", **{"reference_price": 10_000, **terms})  # type: ignore[arg-type]


def test_the_id_and_the_default_band() -> None:
    yrd = instrument()
    assert yrd.id == "YRDPH-2024"
    assert yrd.band() == (9_000, 11_000)
    assert instrument(tick=5, reference_price=10_005).band() == (9_005, 11_005)


@given(
    tick=st.integers(1, 100),
    multiple=st.integers(1, 10_000),
    percent=st.integers(1, 99),
)
def test_the_band_lies_on_the_tick_around_the_reference(
    tick: int, multiple: int, percent: int
) -> None:
    reference = tick * multiple
    low, high = instrument(tick=tick, reference_price=reference, band_percent=percent).band()
    assert low % tick == 0 and high % tick == 0
    assert low <= reference <= high
    assert low * 100 >= reference * (100 - percent) or low == tick
    assert high * 100 <= reference * (100 + percent)


@pytest.mark.parametrize(
    ("price", "quantity", "problem"),
    [
        (10_000, 10, None),
        (9_000, 10, None),
        (11_000, 10, None),
        (None, 10, None),  # at market: no band to check
        (8_998, 10, PriceOutsideBand),
        (11_002, 10, PriceOutsideBand),
        (10_003, 10, PriceOffTick),
        (10_000, 12, QuantityOffLot),
        (10_000, 100_000, QuantityOverLimit),
    ],
)
def test_an_offer_is_checked_against_the_terms(
    price: int | None, quantity: int, problem: type[Problem] | None
) -> None:
    yrd = instrument(tick=2, lot=5, max_quantity=99_995)
    moment = at(MONDAY, 10)
    if problem is None:
        yrd.check(price, quantity, moment)
    else:
        with pytest.raises(problem):
            yrd.check(price, quantity, moment)


def test_a_halted_instrument_refuses_everything_until_resumed() -> None:
    halted = instrument().halt()
    with pytest.raises(InstrumentHalted):
        halted.check(10_000, 1, at(MONDAY, 10))
    halted.resume().check(10_000, 1, at(MONDAY, 10))


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        (at(MONDAY, 9, 29), False),
        (at(MONDAY, 9, 30), True),
        (at(MONDAY, 11, 29), True),
        (at(MONDAY, 11, 30), False),  # the lunch break
        (at(MONDAY, 12, 59), False),
        (at(MONDAY, 13, 0), True),
        (at(MONDAY, 14, 59), True),
        (at(MONDAY, 15, 0), False),
        (at(date(2026, 12, 12), 10), False),  # a Saturday
        (at(date(2026, 12, 8), 10), False),  # a holiday, below
    ],
)
def test_sessions_follow_shanghai_time_weekdays_and_holidays(moment: datetime, open_: bool) -> None:
    sessions = Sessions(holidays=frozenset({date(2026, 12, 8)}))
    assert sessions.open_at(moment) is open_
    yrd = instrument(sessions=sessions)
    if not open_:
        with pytest.raises(MarketClosed):
            yrd.check(10_000, 1, moment)


def test_always_open_for_pilots_and_local_runs() -> None:
    assert Sessions(always=True).open_at(at(date(2026, 12, 12), 3))
    assert Sessions(windows=((time(0, 0), time(23, 59)),)).open_at(at(MONDAY, 8))


@pytest.mark.parametrize(
    "terms",
    [
        {"tick": 0},
        {"lot": 0},
        {"reference_price": 0},
        {"band_percent": 0},
        {"band_percent": 100},
        {"tick": 3, "reference_price": 10_000},
        {"lot": 10, "max_quantity": 5},
    ],
)
def test_invalid_terms_are_refused(terms: dict[str, int]) -> None:
    with pytest.raises(InvalidInstrument):
        instrument(**terms)


def test_the_close_is_the_vwap_of_listing_trades_or_the_previous_close() -> None:
    monday, tuesday, wednesday = MONDAY, date(2026, 12, 8), date(2026, 12, 9)
    trades = [
        Trade(monday, 10_000, 10),
        Trade(monday, 10_101, 20),
        Trade(monday, 9_500, 100, listing=False),  # a block trade: not in the close
        Trade(wednesday, 10_200, 5, listing=False),
    ]
    monday_bar, wednesday_bar = daily_bars(trades, first_close=9_900)
    # (10,000×10 + 10,101×20) / 30 = 10,067.33… → 10,067
    assert (monday_bar.open, monday_bar.high, monday_bar.low, monday_bar.close) == (
        10_000, 10_101, 9_500, 10_067,
    )  # fmt: skip
    assert (monday_bar.volume, monday_bar.turnover) == (130, 1_252_020)
    assert wednesday_bar.day == wednesday and wednesday_bar.close == 10_067  # Monday's close
    assert tuesday not in {b.day for b in daily_bars(trades, 9_900)}


def test_the_vwap_rounds_half_up() -> None:
    assert vwap([Trade(MONDAY, 1, 1), Trade(MONDAY, 2, 1)]) == 2  # 1.5 → 2
    assert vwap([Trade(MONDAY, 1, 2), Trade(MONDAY, 2, 1)]) == 1  # 1.33 → 1
    assert vwap([]) is None


@given(st.lists(st.tuples(st.integers(1, 10**6), st.integers(1, 10**5)), min_size=1))
def test_the_vwap_lies_between_the_lowest_and_highest_price(trades: list[tuple[int, int]]) -> None:
    price = vwap([Trade(MONDAY, p, q) for p, q in trades])
    assert price is not None
    assert min(p for p, _ in trades) <= price <= max(p for p, _ in trades)
