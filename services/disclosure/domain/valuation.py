"""Carbon-asset valuation 碳资产评估: positions marked to the market. Pure: no I/O.

A position is a quantity of one program's credits of one vintage; its market is the instrument
`{program}-{vintage}` (matching's naming). Its mark on a day is the instrument's latest close
on or before that day, by the exchange's rule (`libs/marketdata/bars.py`: the listing trades'
VWAP, carried over days without them); before any trade, the reference price the market
operator set. Credits with no instrument have no market price: they are listed, unvalued.
Prices are fen per tonne, values fen, quantities whole tonnes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from libs.marketdata.bars import Bar

Basis = Literal["close", "reference"]


@dataclass(frozen=True)
class Position:
    program: str
    vintage: int
    quantity: int


@dataclass(frozen=True)
class Mark:
    instrument: str
    price: int  # fen per tonne
    basis: Basis
    marked_on: date | None  # the close's trading day; None for the reference price


@dataclass(frozen=True)
class Line:
    program: str
    vintage: int
    quantity: int
    instrument: str | None
    price: int | None
    basis: Basis | None
    marked_on: date | None
    value: int | None  # fen; None when the credits have no market


@dataclass(frozen=True)
class Valuation:
    as_of: date
    lines: list[Line]
    total_value: int  # fen, of the lines that have a market
    unpriced_quantity: int  # tonnes without a market


def instrument_of(program: str, vintage: int) -> str:
    return f"{program}-{vintage}"


def mark(instrument: str, reference_price: int, bars: Sequence[Bar], as_of: date) -> Mark:
    """The instrument's latest close on or before `as_of` (`bars` in day order), else its
    reference price."""
    closed = [bar for bar in bars if bar.day <= as_of]
    if closed:
        return Mark(instrument, closed[-1].close, "close", closed[-1].day)
    return Mark(instrument, reference_price, "reference", None)


def value(positions: Iterable[Position], marks: dict[str, Mark], as_of: date) -> Valuation:
    """The positions summed per program and vintage, each marked when its market exists."""
    quantities: dict[tuple[str, int], int] = {}
    for p in positions:
        quantities[(p.program, p.vintage)] = quantities.get((p.program, p.vintage), 0) + p.quantity
    lines = [
        _line(program, vintage, q, marks) for (program, vintage), q in sorted(quantities.items())
    ]
    return Valuation(
        as_of,
        lines,
        sum(line.value for line in lines if line.value is not None),
        sum(line.quantity for line in lines if line.value is None),
    )


def _line(program: str, vintage: int, quantity: int, marks: dict[str, Mark]) -> Line:
    found = marks.get(instrument_of(program, vintage))
    if found is None:
        return Line(program, vintage, quantity, None, None, None, None, None)
    return Line(
        program,
        vintage,
        quantity,
        found.instrument,
        found.price,
        found.basis,
        found.marked_on,
        quantity * found.price,
    )
