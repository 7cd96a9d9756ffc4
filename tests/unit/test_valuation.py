"""Valuation (services/disclosure/domain/valuation.py): positions marked at the latest close on
or before the day, the reference price before any, nothing for credits without a market."""

from __future__ import annotations

from datetime import date

from libs.marketdata.bars import Trade, daily_bars
from services.disclosure.domain.valuation import Position, mark, value

MONDAY, TUESDAY, FRIDAY = date(2026, 12, 7), date(2026, 12, 8), date(2026, 12, 11)
BARS = daily_bars(
    [Trade(MONDAY, 5_000, 10), Trade(MONDAY, 5_200, 10), Trade(TUESDAY, 5_300, 5)],
    first_close=4_800,
)


def test_the_mark_is_the_latest_close_on_or_before_the_day_else_the_reference() -> None:
    assert mark("YRDPH-2024", 4_800, BARS, date(2026, 12, 6)).price == 4_800
    assert mark("YRDPH-2024", 4_800, BARS, date(2026, 12, 6)).basis == "reference"
    monday = mark("YRDPH-2024", 4_800, BARS, MONDAY)
    assert (monday.price, monday.basis, monday.marked_on) == (5_100, "close", MONDAY)  # VWAP
    friday = mark("YRDPH-2024", 4_800, BARS, FRIDAY)  # no trade since Tuesday: its close
    assert (friday.price, friday.marked_on) == (5_300, TUESDAY)


def test_positions_are_summed_per_market_and_credits_without_one_are_listed_unvalued() -> None:
    marks = {"YRDPH-2024": mark("YRDPH-2024", 4_800, BARS, FRIDAY)}
    positions = [
        Position("YRDPH", 2024, 7),
        Position("CCER", 2023, 4),  # no instrument lists these
        Position("YRDPH", 2024, 3),
    ]
    result = value(positions, marks, FRIDAY)
    assert [(line.program, line.vintage, line.quantity, line.value) for line in result.lines] == [
        ("CCER", 2023, 4, None),
        ("YRDPH", 2024, 10, 53_000),
    ]
    assert (result.total_value, result.unpriced_quantity, result.as_of) == (53_000, 4, FRIDAY)
    assert value([], marks, FRIDAY).total_value == 0
