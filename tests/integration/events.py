"""A tiny event catalog used by the event-store tests."""

from __future__ import annotations

from libs.events.catalog import EventCatalog, EventPayload

catalog = EventCatalog("test")


@catalog.event("Counted", version=1)
class Counted(EventPayload):
    n: int
    note: str = ""
