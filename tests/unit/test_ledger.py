"""The pure ledger against a unit-by-unit reference model (docs/domain.md invariants)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.registry.domain.ledger import (
    Holding,
    NotEnoughUnits,
    UnitsNotAvailable,
    check_cover,
    merge_adjacent,
    select_by_quantity,
    select_by_ranges,
    split,
)

BATCHES = {  # batch id → (vintage, first unit, last unit)
    "YRDPH-15-QP0001-2023-001": (2023, 1, 40),
    "YRDPH-15-QP0001-2024-001": (2024, 41, 100),
    "YRDPH-15-JS0002-2023-001": (2023, 1, 30),
}
ACCOUNTS = ["A", "B", "C"]


@dataclass
class World:
    """The implementation's holdings beside the model's unit → (account, state) map."""

    holdings: list[Holding] = field(default_factory=list)
    units: dict[tuple[str, int], tuple[str | None, str]] = field(default_factory=dict)

    @classmethod
    def issued(cls) -> World:
        world = cls()
        for batch, (vintage, first, last) in BATCHES.items():
            world.holdings.append(Holding(batch, first, last, "A", "available", vintage))
            for unit in range(first, last + 1):
                world.units[(batch, unit)] = ("A", "available")
        return world

    def available(self, account: str) -> list[Holding]:
        return [h for h in self.holdings if h.account == account and h.state == "available"]

    def model_pick(self, account: str, quantity: int) -> list[tuple[str, int]]:
        """The selection rule, unit by unit: oldest vintage, then batch id, then lowest unit."""
        mine = [k for k, v in self.units.items() if v == (account, "available")]
        mine.sort(key=lambda k: (BATCHES[k[0]][0], k[0], k[1]))
        return mine[:quantity]

    def move(self, account: str, quantity: int, to: str | None, state: str) -> None:
        picked = self.model_pick(account, quantity)
        try:
            takes = select_by_quantity(self.available(account), quantity)
        except NotEnoughUnits:
            assert len(picked) < quantity
            return
        assert len(picked) == quantity
        for unit in picked:
            self.units[unit] = (to, state)
        self._apply(takes, to, state)

    def _apply(self, takes: list, to: str | None, state: str) -> None:  # type: ignore[type-arg]
        for take in takes:
            result = split(take, to, state)  # type: ignore[arg-type]
            self.holdings.remove(result.removed)
            self.holdings.extend([*result.remainders, result.moved])
        self.holdings = merge_adjacent(self.holdings)

    def check(self) -> None:
        for batch, (_, first, last) in BATCHES.items():
            check_cover(first, last, [h for h in self.holdings if h.batch_id == batch])
        from_impl = {
            (h.batch_id, u): (h.account, h.state)
            for h in self.holdings
            for u in range(h.start, h.end + 1)
        }
        assert from_impl == self.units
        for left, right in zip(self.holdings, self.holdings[1:], strict=False):
            if left.batch_id == right.batch_id and left.end + 1 == right.start:
                assert not left.same_owner_and_state(right), "holdings must stay merged"


operation = st.tuples(
    st.sampled_from(["transfer", "retire"]),
    st.sampled_from(ACCOUNTS),
    st.integers(1, 80),
    st.sampled_from(ACCOUNTS),
)


@settings(max_examples=300)
@given(st.lists(operation, max_size=25))
def test_random_transfers_and_retirements_match_the_model(
    ops: list[tuple[str, str, int, str]],
) -> None:
    world = World.issued()
    world.check()
    for kind, source, quantity, target in ops:
        if kind == "transfer":
            world.move(source, quantity, target, "available")
        else:
            world.move(source, quantity, None, "retired")
        world.check()
    total = sum(last - first + 1 for _, first, last in BATCHES.values())
    assert sum(h.quantity for h in world.holdings) == total  # invariant 2: nothing created or lost


def test_selection_takes_the_oldest_vintage_then_batch_then_lowest_units() -> None:
    world = World.issued()
    takes = select_by_quantity(world.available("A"), 50)
    assert [(t.source.batch_id, t.start, t.end) for t in takes] == [
        ("YRDPH-15-JS0002-2023-001", 1, 30),
        ("YRDPH-15-QP0001-2023-001", 1, 20),
    ]


def test_a_split_moves_the_lowest_numbered_units() -> None:
    block = Holding("YRDPH-15-QP0001-2024-001", 41, 100, "A", "available", 2024)
    (take,) = select_by_quantity([block], 10)
    result = split(take, "B", "available")
    assert (result.moved.start, result.moved.end, result.moved.account) == (41, 50, "B")
    assert [(r.start, r.end, r.account) for r in result.remainders] == [(51, 100, "A")]


def test_exact_ranges_must_be_wholly_available() -> None:
    world = World.issued()
    takes = select_by_ranges(world.available("A"), [("YRDPH-15-QP0001-2024-001", 50, 60)])
    assert [(t.start, t.end) for t in takes] == [(50, 60)]
    world._apply(takes, "B", "available")
    with pytest.raises(UnitsNotAvailable):
        select_by_ranges(world.available("A"), [("YRDPH-15-QP0001-2024-001", 55, 70)])
    with pytest.raises(UnitsNotAvailable, match="overlap"):
        select_by_ranges(
            world.available("A"),
            [("YRDPH-15-QP0001-2023-001", 1, 5), ("YRDPH-15-QP0001-2023-001", 5, 9)],
        )


def test_a_range_spanning_two_adjacent_blocks_is_taken_from_both() -> None:
    left = Holding("YRDPH-15-QP0001-2023-001", 1, 10, "A", "available", 2023)
    right = Holding(
        "YRDPH-15-QP0001-2023-001", 11, 20, "A", "available", 2023, acquired_on=None, hold_id=None
    )
    other = Holding("YRDPH-15-QP0001-2023-001", 11, 20, "A", "available", 2023)
    assert right == other
    takes = select_by_ranges([left, right], [("YRDPH-15-QP0001-2023-001", 5, 15)])
    assert [(t.start, t.end) for t in takes] == [(5, 10), (11, 15)]


def test_cover_check_finds_gaps_and_overlaps() -> None:
    with pytest.raises(AssertionError, match="not covered"):
        check_cover(1, 10, [Holding("b", 1, 5, "A", "available")])
    with pytest.raises(AssertionError, match="missing or overlapping"):
        check_cover(
            1, 10, [Holding("b", 1, 6, "A", "available"), Holding("b", 5, 10, "A", "available")]
        )
