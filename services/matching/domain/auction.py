"""The one-way auction (单向竞价): a seller offers a quantity, members bid, the call allocates.

Pure. Bids are ranked by price (highest first), then time: `rank` is the log position of the
bid's latest placement (an amended bid queues again). Allocation fills the ranked bids in turn
until the quantity runs out; the marginal bid is filled in part. Under `uniform` pricing every
winner pays the lowest winning price; under `pay_as_bid` each pays its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from libs.problems import Problem
from services.matching.domain.calendar import MarketClosed
from services.matching.domain.instruments import QuantityUnderMinimum

Pricing = Literal["uniform", "pay_as_bid"]


class OwnAuction(Problem):
    status, slug, title = 409, "own-auction", "A seller cannot bid in its own auction"


class AuctionClosed(Problem):
    status, slug, title = 409, "auction-closed", "Bidding in this auction has closed"


class QuantityOverAuction(Problem):
    status, slug, title = 409, "quantity-over-auction", "More than the auction offers"


@dataclass(frozen=True)
class AuctionTerms:
    seller: str
    quantity: int  # t offered
    reserve_price: int  # fen: the lowest acceptable bid
    cap_price: int  # fen: the highest acceptable bid
    min_bid_quantity: int
    bidding_opens: datetime
    bidding_closes: datetime

    def check_bid(self, bidder: str, price: int, quantity: int, moment: datetime) -> None:
        """Raise the problem that forbids `bidder` bidding `quantity` t at `price` now. (The
        instrument's tick, lot and halt are checked by the instrument.)"""
        if bidder == self.seller:
            raise OwnAuction()
        if moment < self.bidding_opens:
            opens = self.bidding_opens.isoformat()
            raise MarketClosed(f"bidding opens at {opens}", next_opening=opens)
        if moment >= self.bidding_closes:
            raise AuctionClosed(f"bidding closed at {self.bidding_closes.isoformat()}")
        if quantity < self.min_bid_quantity:
            raise QuantityUnderMinimum(
                f"a bid is at least {self.min_bid_quantity} t", minimum=self.min_bid_quantity
            )
        if quantity > self.quantity:
            raise QuantityOverAuction(f"the auction offers {self.quantity} t")


@dataclass(frozen=True)
class Bid:
    id: str
    member: str
    price: int  # fen per t
    quantity: int  # t
    rank: int  # time priority: the log position of its latest placement


@dataclass(frozen=True)
class Allocation:
    bid_id: str
    member: str
    quantity: int
    price: int  # what the winner pays per t


@dataclass(frozen=True)
class Result:
    allocations: list[Allocation]
    unsold: int


def ranked(bids: Iterable[Bid]) -> list[Bid]:
    """Price first (highest), then time (earliest)."""
    return sorted(bids, key=lambda bid: (-bid.price, bid.rank))


def allocate(quantity: int, bids: Iterable[Bid], pricing: Pricing) -> Result:
    """The call: who gets how much at which price, and what is left unsold."""
    left = quantity
    winners: list[tuple[Bid, int]] = []
    for bid in ranked(bids):
        if left == 0:
            break
        filled = min(bid.quantity, left)
        winners.append((bid, filled))
        left -= filled
    lowest = winners[-1][0].price if winners else 0
    allocations = [
        Allocation(bid.id, bid.member, filled, lowest if pricing == "uniform" else bid.price)
        for bid, filled in winners
    ]
    return Result(allocations, left)
