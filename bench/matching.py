"""Matching benchmarks, printing JSON.

(a) The continuous book (`services/matching/domain/book.py`) on a seeded stream of GTC limit
    orders from 50 members around a drifting mid price (about half of them cross), beside a
    plain price-time book written here on `sortedcontainers.SortedDict`, same stream, same
    run, alternated three times; and the cost of a top-of-book read at two book sizes (it must
    not grow with the book). Target: ≥ 1.2× the plain book's orders/s.
(b) Orders through HTTP with the platform running: `bench/matching_http.py`.
(c) The one-way auction's call (`services/matching/domain/auction.py`): 100,000 bids from
    1,000 members on 400 price levels for 10,000,000 t (about half the bids win). Target:
    < 0.5 s per call (median of three).

`BENCH_ORDERS` sets the stream's length (default 1,000,000).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from collections import deque
from pathlib import Path

from sortedcontainers import SortedDict

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._calibration import cpu_calibration
from libs.servicekit import collector
from services.matching.domain.auction import Bid, allocate
from services.matching.domain.book import Order, OrderBook

ORDERS = int(os.environ.get("BENCH_ORDERS", "1000000"))
ROUNDS = 3


def stream(count: int, seed: int = 2026) -> list[Order]:
    rng = random.Random(seed)
    mid, orders = 10_000, []
    for i in range(count):
        if i % 1000 == 0:
            mid += rng.randint(-20, 20)
        side = "buy" if rng.random() < 0.5 else "sell"
        # Half the orders are priced through the mid (they cross), half away from it (they rest).
        offset = rng.randint(1, 20) * (1 if rng.random() < 0.5 else -1)
        price = mid + offset if side == "buy" else mid - offset
        orders.append(
            Order(f"O{i}", f"M{rng.randrange(50)}", side, rng.randint(1, 50), price=max(1, price))  # type: ignore[arg-type]
        )
    return orders


class PlainBook:
    """Price-time priority on SortedDicts of FIFO levels, with the same self-trade prevention."""

    def __init__(self) -> None:
        self.bids: SortedDict = SortedDict()  # price → deque[[id, member, remaining]]
        self.asks: SortedDict = SortedDict()

    def submit(self, order: Order) -> int:
        assert order.price is not None
        remaining, traded = order.quantity, 0
        opposite = self.asks if order.side == "buy" else self.bids
        while remaining and opposite:
            price = opposite.peekitem(0 if order.side == "buy" else -1)[0]
            if (order.side == "buy" and price > order.price) or (
                order.side == "sell" and price < order.price
            ):
                break
            level = opposite[price]
            maker = level[0]
            if maker[1] == order.member:
                level.popleft()
            else:
                fill = min(remaining, maker[2])
                remaining -= fill
                traded += fill
                maker[2] -= fill
                if not maker[2]:
                    level.popleft()
            if not level:
                del opposite[price]
        if remaining:
            own = self.bids if order.side == "buy" else self.asks
            own.setdefault(order.price, deque()).append([order.id, order.member, remaining])
        return traded


def run_book(orders: list[Order]) -> tuple[float, int]:
    book, traded = OrderBook(), 0
    started = time.perf_counter()
    for order in orders:
        traded += book.submit(order).filled
    return time.perf_counter() - started, traded


def run_plain(orders: list[Order]) -> tuple[float, int]:
    book, traded = PlainBook(), 0
    started = time.perf_counter()
    for order in orders:
        traded += book.submit(order)
    return time.perf_counter() - started, traded


def top_of_book_ns(resting_orders: int) -> float:
    """Nanoseconds per best-bid-and-ask read, with `resting_orders` resting on each side."""
    book = OrderBook()
    for i in range(resting_orders):
        book.submit(Order(f"B{i}", "M1", "buy", 1, price=1 + i % 5000))
        book.submit(Order(f"S{i}", "M2", "sell", 1, price=10_000 + i % 5000))
    reads = 200_000
    started = time.perf_counter()
    for _ in range(reads):
        book.best_bid()
        book.best_ask()
    return (time.perf_counter() - started) / reads * 1e9


def auction_call_seconds(bids: int = 100_000) -> list[float]:
    rng = random.Random(2026)
    offers = [
        Bid(
            f"BID-{n}",
            f"M{rng.randrange(1000)}",
            4_800 + rng.randrange(400),
            rng.randint(1, 400),
            n,
        )
        for n in range(bids)
    ]
    times = []
    for pricing in ("uniform", "pay_as_bid", "uniform"):
        started = time.perf_counter()
        allocate(10_000_000, offers, pricing)  # type: ignore[arg-type]
        times.append(round(time.perf_counter() - started, 3))
    return times


def main() -> None:
    calibration = [cpu_calibration()]  # the VM's speed before and after (bench/_calibration.py)
    orders = stream(ORDERS)
    # The collector as the matching service runs it (frozen after start-up, young collections
    # every 20,000 allocations): with CPython's defaults, full collections walking the input
    # stream and the growing books would be timed as the books' cost.
    collector.settle_after_startup()
    book_rates, plain_rates, traded = [], [], set()
    for _ in range(ROUNDS):
        seconds, units = run_book(orders)
        book_rates.append(round(ORDERS / seconds))
        traded.add(units)
        seconds, units = run_plain(orders)
        plain_rates.append(round(ORDERS / seconds))
        traded.add(units)
    book, plain = statistics.median(book_rates), statistics.median(plain_rates)
    report = {
        "a_book": {
            "orders": ORDERS,
            "book_orders_per_s": book_rates,
            "plain_sorteddict_orders_per_s": plain_rates,
            "ratio_of_medians": round(book / plain, 2),
            "same_units_traded": len(traded) == 1,
            "top_of_book_read_ns": {
                "1,000 resting a side": round(top_of_book_ns(1_000)),
                "100,000 resting a side": round(top_of_book_ns(100_000)),
            },
        },
        "c_auction_call": {"bids": 100_000, "seconds": (call := auction_call_seconds())},
        "c_median_s": statistics.median(call),
        "targets": {
            "a": "≥ 1.2× the plain book; top-of-book read independent of book size",
            "c": "< 0.5 s to call an auction of 100,000 bids",
        },
    }
    report["cpu_calibration_ms"] = [*calibration, cpu_calibration()]
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
