"""The one-way auction's call against a naive model, its invariants, and worked examples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.problems import Problem
from services.matching.domain.auction import (
    Allocation,
    AuctionTerms,
    Bid,
    allocate,
)

bids_strategy = st.lists(
    st.tuples(st.sampled_from(["A", "B", "C", "D"]), st.integers(90, 110), st.integers(1, 40)),
    max_size=25,
).map(
    lambda raw: [
        Bid(f"BID-{n}", member, price, quantity, rank=10 * n + 7)
        for n, (member, price, quantity) in enumerate(raw)
    ]
)


def naive(quantity: int, bids: list[Bid]) -> dict[str, int]:
    """One tonne at a time to the best bid still wanting some: highest price, then earliest."""
    wanted = {bid.id: bid.quantity for bid in bids}
    got: dict[str, int] = {}
    for _ in range(quantity):
        open_bids = [bid for bid in bids if wanted[bid.id]]
        if not open_bids:
            break
        best = min(open_bids, key=lambda bid: (-bid.price, bid.rank))
        wanted[best.id] -= 1
        got[best.id] = got.get(best.id, 0) + 1
    return got


@given(
    quantity=st.integers(0, 300),
    bids=bids_strategy,
    pricing=st.sampled_from(["uniform", "pay_as_bid"]),
)
def test_the_call_matches_a_tonne_by_tonne_model(
    quantity: int, bids: list[Bid], pricing: str
) -> None:
    result = allocate(quantity, bids, pricing)  # type: ignore[arg-type]
    assert {a.bid_id: a.quantity for a in result.allocations} == naive(quantity, bids)


@given(
    quantity=st.integers(0, 300),
    bids=bids_strategy,
    pricing=st.sampled_from(["uniform", "pay_as_bid"]),
)
def test_the_call_keeps_its_promises(quantity: int, bids: list[Bid], pricing: str) -> None:
    result = allocate(quantity, bids, pricing)  # type: ignore[arg-type]
    by_id = {bid.id: bid for bid in bids}
    sold = sum(a.quantity for a in result.allocations)
    assert sold + result.unsold == quantity  # every unit sold at most once, the rest unsold
    assert len({a.bid_id for a in result.allocations}) == len(result.allocations)
    for allocation in result.allocations:
        bid = by_id[allocation.bid_id]
        assert 0 < allocation.quantity <= bid.quantity
        assert allocation.price <= bid.price  # no winner pays more than its bid
        assert allocation.member == bid.member
    winners = {a.bid_id for a in result.allocations}
    losers = [bid for bid in bids if bid.id not in winners]
    if result.allocations:
        lowest_winning = min(by_id[a.bid_id].price for a in result.allocations)
        assert all(bid.price <= lowest_winning for bid in losers)  # no loser bid higher
        if pricing == "uniform":
            assert {a.price for a in result.allocations} == {lowest_winning}
        else:
            assert all(a.price == by_id[a.bid_id].price for a in result.allocations)
    if result.unsold:
        assert not losers  # units go unsold only when every bid is filled


def test_a_worked_uniform_call() -> None:
    """100 t offered. A bids 40 t at 105, B 50 t at 103, C 30 t at 103 after B, D 20 t at 99.
    Ranked: A, B, C, D. A gets 40, B 50, C the last 10 (the marginal bid, in part); D nothing.
    Uniform: all pay the lowest winning price, 103."""
    bids = [
        Bid("A", "ENT-A", 105, 40, 1),
        Bid("C", "ENT-C", 103, 30, 3),
        Bid("B", "ENT-B", 103, 50, 2),
        Bid("D", "ENT-D", 99, 20, 4),
    ]
    result = allocate(100, bids, "uniform")
    assert result.allocations == [
        Allocation("A", "ENT-A", 40, 103),
        Allocation("B", "ENT-B", 50, 103),
        Allocation("C", "ENT-C", 10, 103),
    ]
    assert result.unsold == 0


def test_a_worked_pay_as_bid_call_with_units_left() -> None:
    """150 t offered, 110 t bid: everyone is filled at its own price, 40 t go back unsold."""
    bids = [Bid("A", "ENT-A", 105, 40, 1), Bid("B", "ENT-B", 103, 70, 2)]
    result = allocate(150, bids, "pay_as_bid")
    assert result.allocations == [
        Allocation("A", "ENT-A", 40, 105),
        Allocation("B", "ENT-B", 70, 103),
    ]
    assert result.unsold == 40


def test_no_bids_sell_nothing() -> None:
    assert allocate(100_000, [], "uniform").allocations == []
    assert allocate(100_000, [], "uniform").unsold == 100_000


OPENS = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
TERMS = AuctionTerms("COOP", 100, 90, 110, 10, OPENS, OPENS + timedelta(minutes=30))


@pytest.mark.parametrize(
    ("bidder", "quantity", "moment", "slug"),
    [
        ("COOP", 10, OPENS, "own-auction"),
        ("ENT", 10, OPENS - timedelta(seconds=1), "market-closed"),
        ("ENT", 10, OPENS + timedelta(minutes=30), "auction-closed"),
        ("ENT", 5, OPENS, "quantity-under-minimum"),
        ("ENT", 110, OPENS, "quantity-over-auction"),
    ],
)
def test_bids_outside_the_terms_are_refused(
    bidder: str, quantity: int, moment: datetime, slug: str
) -> None:
    with pytest.raises(Problem) as refused:
        TERMS.check_bid(bidder, 100, quantity, moment)
    assert refused.value.slug == slug
    if slug == "market-closed":
        assert refused.value.extensions["next_opening"] == OPENS.isoformat()
