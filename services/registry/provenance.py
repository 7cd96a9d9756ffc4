"""Appending movement events together with their `movements` rows: the index of which events
moved which units (serial provenance) and of which accounts gave or received them (statements)."""

from __future__ import annotations

from typing import Any

from libs.events.catalog import Payload
from libs.events.flush_sql import Table
from libs.events.store import EventTransaction, Recorded

# A movement as event data writes it: {"batch_id", "start", "end", "from": {"account",
# "state"} | None, "to": {...} | None} (`libs.events.contract.registry.Movement`, by alias).
MovementData = dict[str, Any]


async def append_movement_event(
    tx: EventTransaction,
    stream: str,
    expected_version: int,
    event: Payload,
    movements: list[MovementData],
) -> Recorded:
    """Append an event carrying `movements` (its data's, in their JSON form) and index them."""
    (recorded,) = await tx.append(stream, expected_version, [event])
    tx.defer_rows(MOVEMENTS, movement_rows(recorded.sequence, movements))
    return recorded


def movement_rows(sequence: int, movements: list[MovementData]) -> list[tuple[Any, ...]]:
    """The `movements` rows of one event (the same rows `rebuild` replays from the log)."""
    rows = []
    for m in movements:
        origin, target = m.get("from") or _NOWHERE, m.get("to") or _NOWHERE
        rows.append(
            (
                sequence, m["batch_id"], m["start"], m["end"],
                origin["account"], origin["state"], target["account"], target["state"],
            )
        )  # fmt: skip
    return rows


_NOWHERE = {"account": None, "state": None}  # units issued or imported come from nowhere

# What an account still holds (docs/rest.md: total): a movement out of these states lowers its
# balance, one into them raises it; a change between them (a hold) is on the statement with 0.
HELD_STATES = ("available", "held")

MOVEMENTS = Table(
    "movements",
    (
        ("sequence", "bigint"),
        ("batch_id", "text"),
        ("start_unit", "bigint"),
        ("end_unit", "bigint"),
        ("from_account", "text"),
        ("from_state", "text"),
        ("to_account", "text"),
        ("to_state", "text"),
    ),
)
