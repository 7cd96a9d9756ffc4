"""An in-memory implementation of the event-store contract (`libs.events.log.EventLog`).

The same envelopes and hashes as the PostgreSQL store (rows are built by the same
`EventRows`), kept in a list: for unit tests of service logic, and as the contract suite's
reference. One process, no durability.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime

import orjson

from libs.events.catalog import Payload
from libs.events.envelope import GENESIS_HASH, Envelope, format_time
from libs.events.event_rows import ROW_HASH, EventRows, Row
from libs.events.records import ANY_VERSION, ConcurrencyConflict, EventContext, Recorded


class InMemoryEventStore:
    def __init__(self, service: str) -> None:
        self.service = service
        self.source = f"tanhui/{service}"
        self._events: list[Envelope] = []
        self._versions: dict[str, int] = {}
        self._rows = EventRows(self.source)
        self._appended = asyncio.Condition()

    async def append(
        self,
        stream: str,
        expected_version: int,
        events: Sequence[Payload],
        context: EventContext | None = None,
    ) -> list[Recorded]:
        current = self._versions.get(stream, 0)
        if expected_version != ANY_VERSION and current != expected_version:
            raise ConcurrencyConflict(stream, expected_version, current)
        context = context or EventContext()
        now = format_time(datetime.now(UTC))
        sequence, prevhash = self._head()
        built: list[Envelope] = []
        for version, event in enumerate(events, current + 1):
            sequence += 1
            row = self._rows.row(context, now, sequence, stream, version, event, prevhash)
            built.append(_envelope(self.source, row))
            prevhash = row[ROW_HASH]
        self._events.extend(built)  # all or nothing: nothing above awaits or stays half done
        if built:
            self._versions[stream] = built[-1].streamversion
        async with self._appended:
            self._appended.notify_all()
        return [
            Recorded(e.sequence, e.id, e.subject, e.streamversion, e.type, e.hash) for e in built
        ]

    async def read_stream(self, stream: str, after_version: int = 0) -> list[Envelope]:
        return [e for e in self._events if e.subject == stream and e.streamversion > after_version]

    async def read_after(self, sequence: int, limit: int = 1000) -> list[Envelope]:
        return self._events[sequence : sequence + limit]  # sequence n is at index n - 1

    async def head(self) -> tuple[int, str]:
        return self._head()

    async def subscribe(self, after: int = 0) -> AsyncIterator[Envelope]:
        position = after
        while True:
            while position < len(self._events):  # appended meanwhile: still in order
                yield self._events[position]
                position += 1
            async with self._appended:
                await self._appended.wait_for(self._longer_than(position))

    def _longer_than(self, count: int) -> Callable[[], bool]:
        return lambda: len(self._events) > count

    def _head(self) -> tuple[int, str]:
        if not self._events:
            return 0, GENESIS_HASH
        last = self._events[-1]
        return last.sequence, last.hash


def _envelope(source: str, row: Row) -> Envelope:
    (sequence, event_id, stream, version, event_type, now, actor, correlation_id, causation_id,
     traceparent, prevhash, digest, stored) = row  # fmt: skip
    return Envelope(
        id=event_id,
        source=source,
        type=event_type,
        subject=stream,
        time=now,
        sequence=sequence,
        streamversion=version,
        actor=actor,
        correlationid=correlation_id,
        causationid=causation_id,
        traceparent=traceparent,
        prevhash=prevhash,
        hash=digest,
        data=orjson.loads(orjson.dumps(stored)),  # a Fragment or a dict: the stored JSON
    )
