"""Appending movement events together with the unit → event index (serial provenance)."""

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
    """Append an event carrying `movements` (its data's, in their JSON form) and index the
    units it moved."""
    (recorded,) = await tx.append(stream, expected_version, [event])
    sequence = recorded.sequence
    tx.defer_rows(UNIT_EVENTS, [(m["batch_id"], m["start"], m["end"], sequence) for m in movements])
    tx.defer_rows(
        ACCOUNT_ENTRIES,
        [(account, sequence, change) for account, change in holding_changes(movements).items()],
    )
    return recorded


HELD_STATES = ("available", "held")  # what an account still holds (DESIGN §8: total)


def holding_changes(movements: list[MovementData]) -> dict[str, int]:
    """Net change of each touched account's holdings (available + held) in one event; an
    account whose units only changed state (a hold) appears with 0, so it is on its statement."""
    changes: dict[str, int] = {}
    for m in movements:
        units = m["end"] - m["start"] + 1
        for position, sign in ((m.get("from"), -1), (m.get("to"), 1)):
            if position is not None and position["account"] is not None:
                counted = position["state"] in HELD_STATES
                changes[position["account"]] = changes.get(position["account"], 0) + (
                    sign * units if counted else 0
                )
    return changes


ACCOUNT_ENTRIES = Table(
    "account_entries", (("account_id", "text"), ("sequence", "bigint"), ("change", "bigint"))
)
UNIT_EVENTS = Table(
    "unit_events",
    (
        ("batch_id", "text"),
        ("start_unit", "bigint"),
        ("end_unit", "bigint"),
        ("sequence", "bigint"),
    ),
)
