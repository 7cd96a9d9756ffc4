"""The continuous order book: price-time priority, pure and deterministic (no I/O, no clock).

Prices are integer fen, quantities whole tonnes. An order is a limit order (a price it will not
trade through) or a market order (any price); its time in force says what happens to what does
not trade at once: GTC rests in the book, IOC is cancelled, FOK trades whole or not at all.

Matching: an incoming order trades against the best opposite level first, and within a level
against the order that arrived first, always at the resting order's price. Self-trade
prevention: a resting order of the incoming order's own member is cancelled instead of traded
against, and matching goes on. A market order never rests.

Each side keeps its price levels in a list ordered so that the best price is last (bids
ascending, asks by descending price), and each level a FIFO queue: the top of the book is read
in O(1), a level is found by bisection, and a fill at the best level is O(1). The book is a
function of the commands applied to it in order, so replaying the log rebuilds it exactly.

Order ids are unique (the service assigns them). The book keeps no index by id: keeping one
cost a fifth of its time (bench/matching.py (a)). A cancel names the order's side and price,
which the order's own record holds, and searches that one level. A fill carries what is left of
the resting order, so nothing needs to look it up afterwards.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

Side = Literal["buy", "sell"]
OrderType = Literal["limit", "market"]
TimeInForce = Literal["GTC", "IOC", "FOK"]


class OrderRejected(Exception):
    """The order cannot be accepted as given (nothing in the book changed)."""


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    member: str
    side: Side
    quantity: int
    type: OrderType = "limit"
    price: int | None = None  # fen; None for a market order
    time_in_force: TimeInForce = "GTC"

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise OrderRejected("quantity must be positive")
        if self.type == "limit" and (self.price is None or self.price <= 0):
            raise OrderRejected("a limit order needs a positive price")
        if self.type == "market" and self.price is not None:
            raise OrderRejected("a market order has no price")


@dataclass(slots=True)
class Resting:
    """An order's remainder in the book."""

    id: str
    member: str
    side: Side
    price: int
    remaining: int


# A named tuple's generated `__new__` is Python code; the tuple's own, called directly, is C:
# the hot loop builds its fills and outcomes this way, with every field in order.
_built = tuple.__new__


class Fill(NamedTuple):  # a named tuple: one per trade, built in a fraction of a dataclass's time
    maker: str  # the resting order's id
    taker: str  # the incoming order's id
    maker_member: str
    taker_member: str
    taker_side: Side
    price: int
    quantity: int
    maker_left: int  # the resting order's units after this fill (0: filled, gone from the book)

    @property
    def buyer(self) -> str:
        return self.taker_member if self.taker_side == "buy" else self.maker_member

    @property
    def seller(self) -> str:
        return self.maker_member if self.taker_side == "buy" else self.taker_member


class Outcome(NamedTuple):
    """What one order did: its fills, its remainder resting or cancelled, and the resting
    orders of its own member that self-trade prevention cancelled."""

    fills: Sequence[Fill]
    rested: Resting | None  # the incoming order's remainder, if it rests
    cancelled: int  # the incoming order's units cancelled (IOC/market/FOK)
    self_trade_cancelled: Sequence[Resting]
    filled: int  # units traded, the sum of the fills' quantities


class _SideBook:
    """One side's levels: `keys` ordered so that the best price is last."""

    __slots__ = ("keys", "levels", "side")

    def __init__(self, side: Side) -> None:
        self.side = side
        self.keys: list[int] = []  # price for bids, -price for asks: ascending, best last
        self.levels: dict[int, deque[Resting]] = {}

    def key(self, price: int) -> int:
        return price if self.side == "buy" else -price

    def best(self) -> deque[Resting] | None:
        return self.levels[self.keys[-1]] if self.keys else None

    def add(self, resting: Resting) -> None:
        key = resting.price if self.side == "buy" else -resting.price
        level = self.levels.get(key)
        if level is None:
            self.levels[key] = deque((resting,))
            keys = self.keys
            if not keys or key > keys[-1]:  # a new best level: the common case at the top
                keys.append(key)
            else:
                keys.insert(bisect_left(keys, key), key)
        else:
            level.append(resting)

    def take(self, price: int, order_id: str) -> Resting | None:
        """Remove the order `order_id` resting at `price`; None if it is not there."""
        key = self.key(price)
        level = self.levels.get(key, deque())
        for position, resting in enumerate(level):
            if resting.id == order_id:
                del level[position]
                if not level:
                    del self.levels[key]
                    del self.keys[bisect_left(self.keys, key)]
                return resting
        return None

    def crosses(self, level_price: int, limit: int | None) -> bool:
        """Whether an incoming opposite order with `limit` may trade at `level_price`."""
        if limit is None:
            return True
        return level_price <= limit if self.side == "sell" else level_price >= limit


class OrderBook:
    def __init__(self) -> None:
        self._bids, self._asks = _SideBook("buy"), _SideBook("sell")
        self._sides = {"buy": self._bids, "sell": self._asks}

    # -- reads -------------------------------------------------------------------------------

    def best_bid(self) -> int | None:
        level = self._sides["buy"].best()
        return level[0].price if level else None

    def best_ask(self) -> int | None:
        level = self._sides["sell"].best()
        return level[0].price if level else None

    def depth(self, side: Side, levels: int = 5) -> list[tuple[int, int, int]]:
        """The best `levels` price levels of `side`: (price, total quantity, order count)."""
        book = self._sides[side]
        found = []
        for key in reversed(book.keys[-levels:] if levels else []):
            queue = book.levels[key]
            found.append((queue[0].price, sum(r.remaining for r in queue), len(queue)))
        return found

    def resting(self, side: Side) -> list[Resting]:
        """Every resting order of `side` in priority order (best price first, then arrival)."""
        book = self._sides[side]
        return [r for key in reversed(book.keys) for r in book.levels[key]]

    # -- commands ----------------------------------------------------------------------------

    def submit(self, order: Order) -> Outcome:
        quantity = order.quantity
        if order.time_in_force == "FOK" and self._fillable(order) < quantity:
            return _built(Outcome, ([], None, quantity, [], 0))  # all or nothing: nothing
        fills: list[Fill] = []
        cancelled_own: list[Resting] = []
        remaining = self._match(order, fills, cancelled_own)
        if remaining and order.type == "limit" and order.time_in_force == "GTC":
            assert order.price is not None
            resting = Resting(order.id, order.member, order.side, order.price, remaining)
            (self._bids if order.side == "buy" else self._asks).add(resting)
            return _built(Outcome, (fills, resting, 0, cancelled_own, quantity - remaining))
        return _built(Outcome, (fills, None, remaining, cancelled_own, quantity - remaining))

    def cancel(self, side: Side, price: int | None, order_id: str) -> Resting | None:
        """Take the order `order_id` (resting on `side` at `price`, as its record says) out of
        the book; None if it is not resting."""
        if price is None:  # a market order never rests
            return None
        return self._sides[side].take(price, order_id)

    # -- matching ----------------------------------------------------------------------------

    def _match(self, order: Order, fills: list[Fill], cancelled_own: list[Resting]) -> int:
        """Trade `order` against the opposite side, adding to `fills` and to `cancelled_own`
        (self-trade prevention); what is left of it. Written for speed: this loop is the
        book's cost (bench/matching.py (a))."""
        # Keys grow towards the best price on both sides (bids: price, asks: -price), so a
        # level may trade when its key is at least the limit's key; a market order takes any.
        price, side = order.price, order.side
        if side == "buy":
            opposite, bound = self._asks, (None if price is None else -price)
        else:
            opposite, bound = self._bids, price
        keys = opposite.keys
        if not keys or (bound is not None and keys[-1] < bound):
            return order.quantity  # nothing crosses: the order rests or is cancelled whole
        levels = opposite.levels
        taker, member, remaining = order.id, order.member, order.quantity
        while True:
            key = keys[-1]
            level = levels[key]
            while remaining and level:  # one level, oldest first
                maker = level[0]
                if maker.member == member:  # self-trade prevention: the resting one goes
                    level.popleft()
                    cancelled_own.append(maker)
                    continue
                traded = remaining if remaining < maker.remaining else maker.remaining
                left = maker.remaining - traded
                fills.append(
                    _built(
                        Fill,
                        (maker.id, taker, maker.member, member, side, maker.price, traded, left),
                    )
                )
                remaining -= traded
                maker.remaining = left
                if not left:
                    level.popleft()
            if not level:
                del levels[key]
                keys.pop()
            if not remaining or not keys or (bound is not None and keys[-1] < bound):
                return remaining

    def _fillable(self, order: Order) -> int:
        """How much of `order` could trade now (other members' orders at acceptable prices)."""
        opposite = self._sides["sell" if order.side == "buy" else "buy"]
        total = 0
        for key in reversed(opposite.keys):
            level = opposite.levels[key]
            if not opposite.crosses(level[0].price, order.price):
                break
            total += sum(r.remaining for r in level if r.member != order.member)
            if total >= order.quantity:
                break
        return total
