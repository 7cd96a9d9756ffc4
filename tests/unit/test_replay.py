"""The block projector (`domain/replay.py`, used by `rebuild` and `verify`) against a unit-by-unit
model: any sequence of movements over arbitrary unit ranges leaves exactly the blocks the model
implies, and a movement that does not take its units from where they are is refused before it
changes anything."""

from __future__ import annotations

import copy
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.registry.domain.ledger import Holding, merge_adjacent
from services.registry.domain.replay import LedgerReplay, LedgerViolation

SIZE = 30
ACCOUNTS = ["A", "B", "C"]
TARGETS = [
    ("A", "available", None, None),
    ("B", "available", None, date(2026, 1, 5)),
    ("C", "held", "HLD-1", None),
    ("A", "held", "HLD-2", None),
    ("B", "retired", None, None),
]
Unit = tuple[str | None, str, str | None, date | None]  # account, state, hold, acquired

steps = st.lists(
    st.tuples(st.integers(1, SIZE), st.integers(0, 8), st.sampled_from(TARGETS), st.booleans()),
    max_size=25,
)


def model_holdings(units: dict[int, Unit]) -> list[Holding]:
    return merge_adjacent(
        Holding("X", n, n, account, state, 2024, hold, acquired)  # type: ignore[arg-type]
        for n, (account, state, hold, acquired) in units.items()
    )


@st.composite
def first_blocks(draw: st.DrawFn) -> list[tuple[int, int, str]]:
    """The batch issued as a few blocks (start, end, owner)."""
    cuts = sorted(draw(st.sets(st.integers(2, SIZE), max_size=5)))
    starts, ends = [1, *cuts], [c - 1 for c in cuts] + [SIZE]
    return [(s, e, draw(st.sampled_from(ACCOUNTS))) for s, e in zip(starts, ends, strict=True)]


@settings(max_examples=300, deadline=None)
@given(first_blocks(), steps)
def test_replay_equals_the_unit_by_unit_model(blocks: list, moves: list) -> None:
    units: dict[int, Unit] = {
        n: (owner, "available", None, None) for s, e, owner in blocks for n in range(s, e + 1)
    }
    replay = LedgerReplay()
    to = {"state": "available"}
    created = [
        {"batch_id": "X", "start": s, "end": e, "from": None, "to": to | {"account": owner}}
        for s, e, owner in blocks
    ]
    replay.apply(1, created)
    for sequence, (start, length, target, valid) in enumerate(moves, 2):
        account, state, hold, acquired = target
        end = min(SIZE, start + length)
        origin = units[start]
        if valid:  # most movements take units from where they are: up to where that changes
            end = next((n - 1 for n in range(start, end + 1) if units[n][:2] != origin[:2]), end)
        movement = {
            "batch_id": "X",
            "start": start,
            "end": end,
            "from": {"account": origin[0], "state": origin[1]},
            "to": {"account": account, "state": state},
        }
        takes_from_where_they_are = all(
            units[n][:2] == origin[:2] and units[n][1] not in ("retired", "cancelled")
            for n in range(start, end + 1)
        )
        before = copy.deepcopy(replay.batches)
        if takes_from_where_they_are:
            replay.apply(sequence, [movement], hold, acquired)
            for n in range(start, end + 1):
                units[n] = (account, state, hold, acquired)
        else:
            with pytest.raises(LedgerViolation):
                replay.apply(sequence, [movement], hold, acquired)
            assert replay.batches == before
        replay.check_covers()
        assert list(replay.holdings(lambda _: 2024)) == model_holdings(units)


def test_units_created_twice_or_moved_from_nowhere_are_refused() -> None:
    replay = LedgerReplay()
    new = {
        "batch_id": "X",
        "start": 1,
        "end": 5,
        "from": None,
        "to": {"account": "A", "state": "available"},
    }
    replay.apply(1, [new])
    with pytest.raises(LedgerViolation, match="created twice"):
        replay.apply(2, [new | {"start": 5, "end": 6}])
    with pytest.raises(LedgerViolation, match="does not exist"):
        moved = new | {"start": 6, "end": 6, "from": {"account": "A", "state": "available"}}
        replay.apply(3, [moved])
