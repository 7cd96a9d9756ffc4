"""The event-store contract (`libs/events/log.py`), one suite against both implementations:
the PostgreSQL store (a fresh database of the embedded cluster) and the in-memory store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from libs.events import ANY_VERSION, GENESIS_HASH, ChainVerifier, ConcurrencyConflict
from libs.events.log import EventLog
from libs.events.memory_store import InMemoryEventStore
from libs.events.records import EventContext
from libs.events.store import EventStore
from tests.integration.events import Counted


@pytest.fixture(params=["postgres", "memory"])
async def log(request: pytest.FixtureRequest, pool: asyncpg.Pool) -> AsyncIterator[EventLog]:
    # (the pool is made for both: a fixture cannot be asked for from an async one)
    yield InMemoryEventStore("test") if request.param == "memory" else EventStore(pool, "test")


async def test_an_empty_log_has_the_genesis_head(log: EventLog) -> None:
    assert await log.head() == (0, GENESIS_HASH)
    assert await log.read_after(0) == []
    assert await log.read_stream("thing/a") == []


async def test_appended_events_are_read_back_in_order_with_versions_and_context(
    log: EventLog,
) -> None:
    context = EventContext(actor="ORG-1", correlation_id="c-1")
    recorded = await log.append("thing/a", 0, [Counted(n=1), Counted(n=2, note="二")], context)
    assert [(r.sequence, r.stream_version) for r in recorded] == [(1, 1), (2, 2)]
    stream = await log.read_stream("thing/a")
    assert [(e.data["n"], e.data["note"], e.streamversion) for e in stream] == [
        (1, "", 1),
        (2, "二", 2),
    ]
    assert {(e.actor, e.correlationid, e.source, e.type) for e in stream} == {
        ("ORG-1", "c-1", "tanhui/test", "tanhui.test.Counted.v1")
    }
    assert [e.id for e in stream] == [r.id for r in recorded]
    assert await log.read_stream("thing/a", after_version=1) == stream[1:]


async def test_a_wrong_expected_version_appends_nothing(log: EventLog) -> None:
    await log.append("thing/a", 0, [Counted(n=1)])
    head = await log.head()
    for expected in (0, 2):
        with pytest.raises(ConcurrencyConflict):
            await log.append("thing/a", expected, [Counted(n=9), Counted(n=10)])
    assert await log.head() == head
    assert [e.data["n"] for e in await log.read_stream("thing/a")] == [1]
    await log.append("thing/a", ANY_VERSION, [Counted(n=3)])  # no check
    assert [e.streamversion for e in await log.read_stream("thing/a")] == [1, 2]


async def test_sequences_are_gap_free_across_streams_and_the_chain_verifies(log: EventLog) -> None:
    for i in range(5):
        await log.append(f"thing/{i % 2}", i // 2, [Counted(n=i)])
    everything = await log.read_after(0)
    assert [e.sequence for e in everything] == [1, 2, 3, 4, 5]
    verifier = ChainVerifier()
    for envelope in everything:
        verifier.check(envelope)
    assert await log.head() == (5, everything[-1].hash)
    assert [e.sequence for e in await log.read_after(2, limit=2)] == [3, 4]


async def test_a_subscription_yields_the_log_then_each_new_event_in_order(log: EventLog) -> None:
    await log.append("thing/a", 0, [Counted(n=1), Counted(n=2)])
    subscription = log.subscribe(after=1)
    seen: list[int] = []

    async def follow() -> None:
        async for envelope in subscription:
            seen.append(envelope.sequence)
            if len(seen) == 3:
                return

    follower = asyncio.create_task(follow())
    await asyncio.sleep(0.05)
    await log.append("thing/b", 0, [Counted(n=3)])
    await log.append("thing/a", 2, [Counted(n=4)])
    async with asyncio.timeout(10):
        await follower
    await subscription.aclose()  # type: ignore[attr-defined]
    assert seen == [2, 3, 4]
