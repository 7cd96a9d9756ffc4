"""The continuous book against a deliberately naive model (one list of resting orders, sorted
by priority on every look), driven by a hypothesis state machine; and its replay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from services.matching.domain.book import Fill, Order, OrderBook, OrderRejected

MEMBERS = ["M1", "M2", "M3"]


@dataclass
class Naive:
    id: str
    member: str
    side: str
    price: int
    remaining: int
    arrival: int


class NaiveBook:
    def __init__(self) -> None:
        self.orders: list[Naive] = []
        self.arrivals = 0

    def priority(self, side: str) -> list[Naive]:
        same = [o for o in self.orders if o.side == side]
        sign = -1 if side == "buy" else 1  # best bid = highest, best ask = lowest
        return sorted(same, key=lambda o: (sign * o.price, o.arrival))

    def acceptable(self, order: Order, resting: Naive) -> bool:
        if order.price is None:
            return True
        return resting.price <= order.price if order.side == "buy" else resting.price >= order.price

    def submit(self, order: Order) -> tuple[list[tuple[Any, ...]], int, list[str], bool]:
        opposite = "sell" if order.side == "buy" else "buy"
        if order.time_in_force == "FOK":
            available = sum(
                o.remaining
                for o in self.priority(opposite)
                if self.acceptable(order, o) and o.member != order.member
            )
            if available < order.quantity:
                return [], order.quantity, [], False
        fills, stp, remaining = [], [], order.quantity
        while remaining:
            candidates = [o for o in self.priority(opposite) if self.acceptable(order, o)]
            if not candidates:
                break
            maker = candidates[0]
            if maker.member == order.member:
                self.orders.remove(maker)
                stp.append(maker.id)
                continue
            traded = min(remaining, maker.remaining)
            remaining -= traded
            maker.remaining -= traded
            fills.append((maker.id, order.id, maker.price, traded, maker.remaining))
            if not maker.remaining:
                self.orders.remove(maker)
        rests = bool(remaining) and order.type == "limit" and order.time_in_force == "GTC"
        if rests:
            assert order.price is not None
            self.arrivals += 1
            self.orders.append(
                Naive(order.id, order.member, order.side, order.price, remaining, self.arrivals)
            )
        return fills, 0 if rests else remaining, stp, rests


orders = st.builds(
    lambda side, kind, price, quantity, tif, member: (side, kind, price, quantity, tif, member),
    st.sampled_from(["buy", "sell"]),
    st.sampled_from(["limit", "limit", "limit", "market"]),
    st.integers(95, 105),
    st.integers(1, 30),
    st.sampled_from(["GTC", "GTC", "IOC", "FOK"]),
    st.sampled_from(MEMBERS),
)


class BookMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.book = OrderBook()
        self.model = NaiveBook()
        self.count = 0
        self.commands: list[tuple[str, Any]] = []
        self.accounted: dict[str, int] = {}  # order id → quantity filled + cancelled + resting

    @rule(spec=orders)
    def submit(self, spec: tuple[str, str, int, int, str, str]) -> None:
        side, kind, price, quantity, tif, member = spec
        self.count += 1
        order = Order(
            f"O{self.count}", member, side, quantity, kind,  # type: ignore[arg-type]
            price if kind == "limit" else None, tif,  # type: ignore[arg-type]
        )  # fmt: skip
        self.commands.append(("submit", order))
        outcome = self.book.submit(order)
        fills, cancelled, stp, rests = self.model.submit(order)
        got = [(f.maker, f.taker, f.price, f.quantity, f.maker_left) for f in outcome.fills]
        assert got == fills
        assert outcome.cancelled == cancelled
        assert [r.id for r in outcome.self_trade_cancelled] == stp
        assert (outcome.rested is not None) == rests
        for fill in outcome.fills:
            assert _prices_ok(order, fill)
            assert fill.buyer != fill.seller
        resting = outcome.rested.remaining if outcome.rested else 0
        assert outcome.filled + outcome.cancelled + resting == quantity  # nothing lost

    @precondition(lambda self: bool(self.model.orders))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        target = data.draw(st.sampled_from(sorted(o.id for o in self.model.orders)))
        naive = next(o for o in self.model.orders if o.id == target)
        self.commands.append(("cancel", naive))
        removed = self.book.cancel(naive.side, naive.price, target)  # type: ignore[arg-type]
        self.model.orders.remove(naive)
        assert removed is not None and removed.remaining == naive.remaining
        assert self.book.cancel(naive.side, naive.price, target) is None  # type: ignore[arg-type]

    @invariant()
    def the_book_is_the_model(self) -> None:
        for side in ("buy", "sell"):
            got = [(r.id, r.price, r.remaining) for r in self.book.resting(side)]  # type: ignore[arg-type]
            want = [(o.id, o.price, o.remaining) for o in self.model.priority(side)]
            assert got == want
            levels = self.book.depth(side, levels=5)  # type: ignore[arg-type]
            prices = [p for p, _, _ in levels]
            assert prices == sorted(set(prices), reverse=side == "buy")[:5]

    @invariant()
    def the_book_never_stays_crossed(self) -> None:
        bid, ask = self.book.best_bid(), self.book.best_ask()
        if bid is not None and ask is not None:
            assert bid < ask

    @invariant()
    def a_replay_rebuilds_the_same_book(self) -> None:
        replayed = OrderBook()
        for command, argument in self.commands:
            if command == "submit":
                replayed.submit(argument)
            else:
                replayed.cancel(argument.side, argument.price, argument.id)
        for side in ("buy", "sell"):
            assert [vars_of(r) for r in replayed.resting(side)] == [  # type: ignore[arg-type]
                vars_of(r)
                for r in self.book.resting(side)  # type: ignore[arg-type]
            ]


def vars_of(resting: Any) -> tuple[Any, ...]:
    return (resting.id, resting.member, resting.side, resting.price, resting.remaining)


def _prices_ok(order: Order, fill: Fill) -> bool:
    if order.price is None:
        return True
    return fill.price <= order.price if order.side == "buy" else fill.price >= order.price


BookMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestBookMachine = BookMachine.TestCase


def test_price_time_priority_and_trading_at_the_resting_price() -> None:
    book = OrderBook()
    book.submit(Order("S1", "M1", "sell", 10, price=101))
    book.submit(Order("S2", "M2", "sell", 10, price=100))
    book.submit(Order("S3", "M3", "sell", 10, price=100))
    outcome = book.submit(Order("B1", "M1", "buy", 25, price=101))
    assert [(f.maker, f.price, f.quantity) for f in outcome.fills] == [
        ("S2", 100, 10),
        ("S3", 100, 10),
    ]
    # S1 is M1's own: cancelled by self-trade prevention, and the rest of B1 rests at 101.
    assert [r.id for r in outcome.self_trade_cancelled] == ["S1"]
    assert outcome.rested is not None and outcome.rested.remaining == 5
    assert (book.best_bid(), book.best_ask()) == (101, None)


def test_fill_or_kill_changes_nothing_when_it_cannot_fill() -> None:
    book = OrderBook()
    book.submit(Order("S1", "M1", "sell", 10, price=100))
    outcome = book.submit(Order("B1", "M2", "buy", 11, price=100, time_in_force="FOK"))
    assert outcome.fills == [] and outcome.cancelled == 11
    assert book.depth("sell") == [(100, 10, 1)]


def test_a_cancel_names_side_and_price_and_finds_only_a_resting_order() -> None:
    book = OrderBook()
    book.submit(Order("S1", "M1", "sell", 10, price=100))
    book.submit(Order("S2", "M2", "sell", 5, price=100))
    assert book.cancel("sell", 101, "S1") is None  # not at that price
    assert book.cancel("buy", 100, "S1") is None  # nor on that side
    assert book.cancel("sell", None, "S1") is None  # a market order never rests
    taken = book.cancel("sell", 100, "S1")
    assert taken is not None and (taken.id, taken.remaining) == ("S1", 10)
    assert book.depth("sell") == [(100, 5, 1)]
    assert book.cancel("sell", 100, "S2") is not None
    assert (book.depth("sell"), book.best_ask()) == ([], None)


@pytest.mark.parametrize(
    "order",
    [
        {"quantity": 0, "price": 1},
        {"quantity": 1, "price": 0},
        {"quantity": 1, "price": None},
        {"quantity": 1, "price": 5, "type": "market"},
    ],
)
def test_malformed_orders_are_rejected(order: dict[str, Any]) -> None:
    with pytest.raises(OrderRejected):
        Order("X", "M1", "buy", **order)
