"""The event-store contract: what any implementation of a service's log offers.

Implemented by `EventStore` (PostgreSQL, `store.py`) and `InMemoryEventStore`
(`memory_store.py`); one contract suite (`tests/integration/test_event_log_contract.py`) runs
against both. Service logic that needs only this interface can be unit tested on the in-memory
store in milliseconds.

- `append(stream, expected_version, events)`: all or nothing; `expected_version` is the
  stream's current version (0: the stream must be new; `ANY_VERSION`: no check), else
  `ConcurrencyConflict` and nothing is appended. Each event gets the next `sequence` (gap-free
  across the log, from 1), the next `streamversion` of its stream (from 1), and the hash chain.
- `read_stream(stream, after_version)`: the stream's events in version order.
- `read_after(sequence, limit)`: the log in sequence order, after a position.
- `head()`: the last (sequence, hash); `(0, GENESIS_HASH)` for an empty log.
- `subscribe(after)`: every event after `after`, in order, then each new one as it is
  committed; never ends by itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from libs.events.catalog import Payload
from libs.events.envelope import Envelope
from libs.events.records import EventContext, Recorded


class EventLog(Protocol):
    source: str  # `tanhui/<service>`

    async def append(
        self,
        stream: str,
        expected_version: int,
        events: Sequence[Payload],
        context: EventContext | None = None,
    ) -> list[Recorded]: ...

    async def read_stream(self, stream: str, after_version: int = 0) -> list[Envelope]: ...

    async def read_after(self, sequence: int, limit: int = 1000) -> list[Envelope]: ...

    async def head(self) -> tuple[int, str]: ...

    def subscribe(self, after: int = 0) -> AsyncIterator[Envelope]: ...
