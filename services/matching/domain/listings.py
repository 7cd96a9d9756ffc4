"""The listing agreement (挂牌协议): a taker picks a listing among the counterparty side's best
five price levels and trades the quantity it declares at the listing's price.

Pure: the levels are computed from the open listings handed in; the store reads them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from libs.problems import Problem

Side = Literal["buy", "sell"]
BEST_LEVELS = 5


class ListingNotInBestFive(Problem):
    status, slug, title = 409, "listing-not-in-best-five", "Take only from the best five levels"


class OwnListing(Problem):
    status, slug, title = 409, "own-listing", "A member cannot take its own listing"


class ListingClosed(Problem):
    status, slug, title = 409, "listing-closed", "The listing is no longer open"


class QuantityOverRemaining(Problem):
    status, slug, title = 409, "quantity-over-remaining", "More than the listing has left"


@dataclass(frozen=True)
class OpenListing:
    id: str
    side: Side
    member: str
    price: int
    remaining: int
    posted_at: datetime


@dataclass
class Level:
    price: int
    listings: list[OpenListing] = field(default_factory=list)

    @property
    def quantity(self) -> int:
        return sum(listing.remaining for listing in self.listings)


def better_first(side: Side, prices: Iterable[int]) -> list[int]:
    """Distinct prices, best first: the lowest ask, the highest bid."""
    return sorted(set(prices), reverse=side == "buy")


def best_levels(
    side: Side, listings: Iterable[OpenListing], depth: int = BEST_LEVELS
) -> list[Level]:
    """The best `depth` price levels of one side, each with its listings in posting order."""
    by_price: dict[int, list[OpenListing]] = {}
    for listing in listings:
        if listing.side == side and listing.remaining > 0:
            by_price.setdefault(listing.price, []).append(listing)
    return [
        Level(price, sorted(by_price[price], key=lambda x: (x.posted_at, x.id)))
        for price in better_first(side, by_price)[:depth]
    ]


def check_take(
    listing: OpenListing, status: str, taker: str, quantity: int, best: Sequence[int]
) -> None:
    """Raise the problem that forbids `taker` taking `quantity` of `listing` now; `best` is
    its side's best prices (at most five)."""
    if status != "open" or listing.remaining == 0:
        raise ListingClosed(f"listing {listing.id} is {status}")
    if listing.member == taker:
        raise OwnListing()
    if listing.price not in best[:BEST_LEVELS]:
        raise ListingNotInBestFive(
            f"{listing.price} fen is not among the best five levels", best=list(best[:BEST_LEVELS])
        )
    if quantity > listing.remaining:
        raise QuantityOverRemaining(
            f"{quantity} t asked, {listing.remaining} t left", remaining=listing.remaining
        )
