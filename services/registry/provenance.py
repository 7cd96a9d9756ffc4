"""Appending movement events together with the unit → event index (serial provenance)."""

from __future__ import annotations

from typing import Any

from libs.events.catalog import EventPayload
from libs.events.store import EventTransaction, Recorded


async def append_movement_event(
    tx: EventTransaction, stream: str, expected_version: int, event: EventPayload
) -> Recorded:
    """Append an event carrying `movements` and index the units it moved."""
    (recorded,) = await tx.append(stream, expected_version, [event])
    movements: list[Any] = getattr(event, "movements", [])
    tx.defer_rows(
        UNIT_EVENTS_INSERT, [(m.batch_id, m.start, m.end, recorded.sequence) for m in movements]
    )
    return recorded


UNIT_EVENTS_INSERT = (
    "INSERT INTO unit_events (batch_id, start_unit, end_unit, sequence)"
    " SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[])"
)
