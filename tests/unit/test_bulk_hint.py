"""`hint_of`: what a bulk request will read, taken from its JSON before validation."""

from __future__ import annotations

from services.registry.bulk import hint_of
from services.registry.workbook import MoveHint


def test_plain_quantities_are_summed_per_account_and_anything_else_reads_it_whole() -> None:
    ops = [
        {"op": "transfer", "from_account": "A", "to_account": "B", "quantity": 2},
        {"op": "transfer", "from_account": "A", "to_account": "C", "quantity": 3},
        {"op": "retire", "account": "B", "quantity": 1, "criteria": {"vintage": 2024}},
        {"op": "transfer", "from_account": "D", "to_account": "A", "quantity": "4"},
        {"op": "hold", "account": "E", "quantity": 1},
        {"op": "release", "hold_id": "HLD-1"},
        {"op": "execute", "hold_id": "HLD-2", "to_account": "F", "keep_held": True},
    ]
    assert hint_of({"mode": "atomic", "operations": ops}) == MoveHint(
        holders=("A", "B", "D", "E"),
        others=("C", "F"),
        numbers=7,
        wanted=(("A", 5),),
        holds=("HLD-1", "HLD-2"),
    )


def test_items_it_cannot_read_are_skipped_and_a_body_without_items_gives_none() -> None:
    ops = [
        "not an item",
        {"op": "transfer", "from_account": 7, "to_account": None, "quantity": 1},
        {"op": "release", "hold_id": ["HLD-1"]},
        {"op": "explode", "account": "A"},
    ]
    assert hint_of({"operations": ops}) == MoveHint((), (), 4, (), ())
    assert hint_of({"operations": []}) is None
    assert hint_of({"operations": [{}] * 10_001}) is None
    assert hint_of([{"op": "transfer"}]) is None
    assert hint_of(None) is None
