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
    if movements:
        await tx.execute(
            "INSERT INTO unit_events (batch_id, start_unit, end_unit, sequence)"
            " SELECT b, s, e, $4 FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS m(b, s, e)",
            [m.batch_id for m in movements],
            [m.start for m in movements],
            [m.end for m in movements],
            recorded.sequence,
        )
    return recorded
