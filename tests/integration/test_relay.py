"""Outbox relay against real PostgreSQL and Tansu."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import orjson
import pytest

from libs.devstack.processes import free_port
from libs.events.relay import OutboxRelay
from libs.events.store import EventStore
from libs.servicekit.database import asyncpg_dsn
from tests.conftest import Platform
from tests.integration.events import Counted
from tests.integration.kafka_tools import produce, read_all


async def append_many(store: EventStore, streams: int, per_stream: int) -> None:
    async with store.transaction() as tx:
        for round_ in range(per_stream):
            for s in range(streams):
                await tx.append(f"thing/{s}", round_, [Counted(n=round_)])


@asynccontextmanager
async def running(relay: OutboxRelay) -> AsyncIterator[None]:
    """The relay running in the background for the block's duration."""
    task = asyncio.create_task(relay.run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def first_occurrences_in_order(records: list) -> dict[int, list[int]]:  # type: ignore[type-arg]
    """Per partition, the sequences in order of first appearance (duplicates dropped)."""
    seen: set[int] = set()
    by_partition: dict[int, list[int]] = defaultdict(list)
    for record in records:
        sequence = orjson.loads(record.value)["sequence"]
        if sequence not in seen:
            seen.add(sequence)
            by_partition[record.partition].append(sequence)
    return by_partition


async def test_relay_publishes_the_log_in_order_keyed_by_subject(
    platform: Platform, topics: str, store: EventStore
) -> None:
    topic = f"{topics}tanhui.registry"
    await append_many(store, streams=7, per_stream=20)
    relay = OutboxRelay(store, platform.bootstrap, topic, batch_size=50, poll_interval=0.1)
    async with running(relay):
        records = await read_all(platform.bootstrap, topic, expect_at_least=140)
    assert len(records) == 140
    for record in records:
        envelope = orjson.loads(record.value)
        assert record.key == envelope["subject"].encode()
        assert dict(record.headers) == {} or "traceparent" in dict(record.headers)
    # Each subject lands on one partition, in stream order.
    by_subject: dict[str, list[int]] = defaultdict(list)
    for record in records:
        envelope = orjson.loads(record.value)
        by_subject[envelope["subject"]].append(envelope["streamversion"])
    assert all(versions == list(range(1, 21)) for versions in by_subject.values())
    assert await store.pool.fetchval("SELECT sequence FROM relay_positions") == 140


async def test_relay_wakes_on_notify_without_waiting_for_the_poll(
    platform: Platform, topics: str, store: EventStore
) -> None:
    topic = f"{topics}tanhui.registry"
    relay = OutboxRelay(store, platform.bootstrap, topic, poll_interval=30)
    async with running(relay):
        await asyncio.sleep(0.5)  # relay is now waiting on LISTEN
        await store.append("thing/a", 0, [Counted(n=1)])
        records = await asyncio.wait_for(read_all(platform.bootstrap, topic, 1), 5)
    assert len(records) == 1


async def test_relay_killed_and_restarted_loses_and_reorders_nothing(
    platform: Platform, topics: str, store: EventStore, db_url: str
) -> None:
    topic = f"{topics}tanhui.registry"
    total = 20_000
    await append_many(store, streams=40, per_stream=total // 40)
    args = [
        sys.executable,
        "-m",
        "tests.integration.relay_process",
        asyncpg_dsn(db_url),
        platform.bootstrap,
        topic,
        "100",
    ]
    first = subprocess.Popen(args)
    try:
        while not await store.pool.fetchval("SELECT sequence FROM relay_positions"):
            await asyncio.sleep(0.002)
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    killed_at = await store.pool.fetchval("SELECT sequence FROM relay_positions")
    assert killed_at < total, "the relay must have been killed mid-log"

    second = subprocess.Popen(args)
    try:
        for _ in range(300):
            if await store.pool.fetchval("SELECT sequence FROM relay_positions") == total:
                break
            await asyncio.sleep(0.1)
    finally:
        second.terminate()
        second.wait()
    records = await read_all(platform.bootstrap, topic, expect_at_least=total)
    sequences = {orjson.loads(r.value)["sequence"] for r in records}
    assert sequences == set(range(1, total + 1)), "no event lost"
    for partition_sequences in first_occurrences_in_order(records).values():
        assert partition_sequences == sorted(partition_sequences), "no reordering"


async def test_relay_republishes_the_log_into_an_empty_topic(
    platform: Platform, topics: str, store: EventStore
) -> None:
    """A fresh in-memory broker has empty topics while our saved position says otherwise."""
    topic = f"{topics}tanhui.issuance"
    await append_many(store, streams=3, per_stream=5)
    relay = OutboxRelay(store, platform.bootstrap, topic, poll_interval=0.1)
    await relay.republish_from(15)  # as if everything had been published to an old broker
    async with running(relay):
        records = await read_all(platform.bootstrap, topic, expect_at_least=15)
    assert sorted(orjson.loads(r.value)["sequence"] for r in records) == list(range(1, 16))


@pytest.mark.parametrize("position", [0, 10])
async def test_republish_from_a_position(
    platform: Platform, topics: str, store: EventStore, position: int
) -> None:
    topic = f"{topics}tanhui.matching"
    await append_many(store, streams=2, per_stream=10)
    relay = OutboxRelay(store, platform.bootstrap, topic, republish_into_empty_topic=False)
    await relay.republish_from(position)
    async with running(relay):
        records = await read_all(platform.bootstrap, topic, expect_at_least=20 - position)
    got = sorted(orjson.loads(r.value)["sequence"] for r in records)
    assert got == list(range(position + 1, 21))


async def test_relay_republishes_the_log_into_a_topic_holding_only_newer_events(
    platform: Platform, topics: str, store: EventStore
) -> None:
    """A broker that came back empty, then took newer events: the topic no longer holds the
    log's first event, so the relay rebuilds it (the partial copy goes) and publishes the whole
    log again, in order."""
    topic = f"{topics}tanhui.issuance"
    await append_many(store, streams=3, per_stream=5)
    newest = (await store.read_after(14))[0]
    await produce(
        platform.bootstrap, topic, [(newest.subject.encode(), orjson.dumps(newest.to_json_dict()))]
    )
    relay = OutboxRelay(store, platform.bootstrap, topic, poll_interval=0.1)
    await relay.republish_from(15)  # everything published once, to the broker that lost it
    async with running(relay):
        async with asyncio.timeout(30):
            while not (relay.republished == 1 and relay.position == 15):
                await asyncio.sleep(0.05)
        records = await read_all(platform.bootstrap, topic, expect_at_least=15)
    assert sorted(orjson.loads(r.value)["sequence"] for r in records) == list(range(1, 16))
    for partition_sequences in first_occurrences_in_order(records).values():
        assert partition_sequences == sorted(partition_sequences), "re-published in order"


async def test_relay_creates_its_topic_when_the_broker_has_none(
    platform: Platform, topic_prefix: str, store: EventStore
) -> None:
    topic = f"{topic_prefix}tanhui.issuance"  # never created: as after a broker restart
    await append_many(store, streams=2, per_stream=3)
    relay = OutboxRelay(store, platform.bootstrap, topic, poll_interval=0.1)
    async with running(relay):
        records = await read_all(platform.bootstrap, topic, expect_at_least=6)
    assert sorted(orjson.loads(r.value)["sequence"] for r in records) == list(range(1, 7))


async def test_a_relay_whose_pool_closed_stops_instead_of_retrying_for_ever(
    platform: Platform, topic_prefix: str, db_url: str
) -> None:
    """As when its cancellation was lost while its service stopped: nothing is left to relay."""
    pool = await asyncpg.create_pool(asyncpg_dsn(db_url), min_size=1, max_size=2)
    store = EventStore(pool, "test")
    await pool.close()
    relay = OutboxRelay(store, platform.bootstrap, f"{topic_prefix}tanhui.issuance")
    async with asyncio.timeout(5):
        await relay.run_forever()


async def test_a_relay_that_cannot_reach_the_broker_leaves_its_connection_clean(
    topic_prefix: str, store: EventStore, pool: asyncpg.Pool
) -> None:
    """Its leader lock taken, the broker unreachable: the run fails, and the connection goes
    back to the pool with no listener (asyncpg would warn mid-release, an error here, and the
    lock would stay held) — the next run, or another replica, can lead."""
    relay = OutboxRelay(store, f"127.0.0.1:{free_port()}", f"{topic_prefix}tanhui.issuance")
    with pytest.raises(Exception, match=r"(?i)connect|bootstrap"):
        await relay.run()
    held = await pool.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
    assert held == 0
