"""Idempotent consumer against real PostgreSQL and Tansu."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import asyncpg
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from libs.events import CommandWriter, EventStore
from libs.events.consumer import EventConsumer as _EventConsumer
from libs.events.envelope import Envelope
from libs.events.store import EventTransaction
from tests.conftest import Platform
from tests.integration.events import Counted
from tests.integration.kafka_tools import produce, read_all


def EventConsumer(*args: object, **kwargs: object) -> _EventConsumer:
    """Consumers with a short session timeout: Tansu delays a group join by half of it."""
    return _EventConsumer(*args, session_timeout_ms=2000, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def writer(store: EventStore) -> AsyncIterator[CommandWriter]:
    await store.pool.execute("CREATE TABLE tally (event_id uuid, n int)")
    writer = CommandWriter(store)
    await writer.start()
    yield writer
    await writer.stop()


async def record_tally(tx: EventTransaction, envelope: Envelope) -> None:
    await tx.execute("INSERT INTO tally VALUES ($1, $2)", envelope.id, envelope.data["n"])


RUNS: list[int] = []  # the lengths of the runs the batch handler was given


async def tally_run(tx: EventTransaction, envelopes: Sequence[Envelope]) -> None:
    """The batch handler: a run of events in one statement."""
    RUNS.append(len(envelopes))
    await tx.execute(
        "INSERT INTO tally SELECT * FROM unnest($1::uuid[], $2::int[])",
        [e.id for e in envelopes],
        [e.data["n"] for e in envelopes],
    )


def handlers(batched: bool) -> dict[str, object]:
    """The consumer's handlers: a run's events one at a time in its transaction, or set-wise;
    either way a run that fails is applied again one event per transaction."""
    return {"batch_handler": tally_run} if batched else {}


async def source_envelopes(pool: asyncpg.Pool, count: int) -> list[Envelope]:
    """Real, hash-chained envelopes from another service's log."""
    source = EventStore(pool, "issuance")
    async with source.transaction() as tx:
        for i in range(count):
            await tx.append(f"thing/{i % 4}", -1, [Counted(n=i)])
    return await source.read_after(0)


def as_messages(envelopes: list[Envelope]) -> list[tuple[bytes, bytes]]:
    return [(e.subject.encode(), orjson.dumps(e.to_json_dict())) for e in envelopes]


async def run_until(
    consumer: EventConsumer, done: Callable[[], Awaitable[bool]], timeout: float = 15
) -> None:
    task = asyncio.create_task(consumer.run())
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not await done():
            assert asyncio.get_running_loop().time() < deadline, "consumer did not finish"
            assert not task.done(), task.exception()
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.parametrize("batched", [False, True], ids=["one-by-one", "set-wise"])
async def test_redelivered_and_duplicated_events_take_effect_once(
    platform: Platform,
    topics: str,
    writer: CommandWriter,
    pool: asyncpg.Pool,
    db_url: str,
    batched: bool,
) -> None:
    topic = f"{topics}tanhui.issuance"
    other_db = await platform.fresh_database("issuance")
    other_pool = await asyncpg.create_pool(other_db.replace("postgresql", "postgres", 1))
    envelopes = await source_envelopes(other_pool, 30)
    await other_pool.close()
    # The relay is at-least-once: publish everything, then half of it again.
    await produce(platform.bootstrap, topic, as_messages(envelopes + envelopes[:15]))

    async def tallied(n: int) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return await pool.fetchval("SELECT count(*) FROM tally") >= n

        return check

    group = f"{topics}group"
    first = EventConsumer(
        group, writer, platform.bootstrap, [topic], record_tally, **handlers(batched)
    )
    await run_until(first, await tallied(30))
    # A consumer restarted in a new group re-reads the whole topic: a full redelivery.
    # Same processed-events scope (`name`), so effects stay exactly-once.
    third = EventConsumer(
        group,
        writer,
        platform.bootstrap,
        [topic],
        record_tally,
        group_id=group + "-replay",
        **handlers(batched),
    )

    async def drained() -> bool:
        return third.duplicates >= 45

    await run_until(third, drained)
    rows = await pool.fetch("SELECT event_id, n FROM tally ORDER BY n")
    assert [r["n"] for r in rows] == list(range(30))
    assert len({r["event_id"] for r in rows}) == 30
    assert first.applied == 30 and first.duplicates == 15
    if batched:
        assert max(RUNS) > 1  # runs were applied set-wise


@pytest.mark.parametrize("batched", [False, True], ids=["one-by-one", "set-wise"])
async def test_a_poison_message_goes_to_the_dlq_and_the_consumer_goes_on(
    platform: Platform, topics: str, writer: CommandWriter, pool: asyncpg.Pool, batched: bool
) -> None:
    topic = f"{topics}tanhui.issuance"
    envelopes = await source_envelopes(pool, 3)
    messages = as_messages(envelopes)
    await produce(
        platform.bootstrap,
        topic,
        [messages[0], (b"thing/0", b"{not json"), messages[1], messages[2]],
    )
    consumer = EventConsumer(
        f"{topics}g", writer, platform.bootstrap, [topic], record_tally, **handlers(batched)
    )

    async def done() -> bool:
        tallied = await pool.fetchval("SELECT count(*) FROM tally")
        return bool(tallied == 3 and consumer.dead_lettered == 1)

    await run_until(consumer, done)
    dead = await read_all(platform.bootstrap, f"{topic}.dlq", expect_at_least=1)
    assert [r.value for r in dead] == [b"{not json"]
    headers = dict(dead[0].headers)
    assert b"PoisonMessage" in headers["error"]
    assert headers["attempts"] == b"1"  # retrying cannot fix a malformed message
    assert consumer.dead_lettered == 1


async def test_a_handler_that_keeps_failing_is_retried_then_dead_lettered(
    platform: Platform, topics: str, writer: CommandWriter, pool: asyncpg.Pool
) -> None:
    topic = f"{topics}tanhui.issuance"
    envelopes = await source_envelopes(pool, 4)
    await produce(platform.bootstrap, topic, as_messages(envelopes))
    attempts: dict[int, int] = {}

    async def fails_on_two(tx: EventTransaction, envelope: Envelope) -> None:
        n = envelope.data["n"]
        attempts[n] = attempts.get(n, 0) + 1
        await record_tally(tx, envelope)  # written, then rolled back by the failure
        if n == 2:
            raise ValueError("cannot apply event 2")

    consumer = EventConsumer(f"{topics}g", writer, platform.bootstrap, [topic], fails_on_two)

    async def done() -> bool:
        return consumer.dead_lettered == 1 and consumer.applied == 3

    await run_until(consumer, done)
    # Three consumer attempts alone, each running the handler optimistically, then
    # pessimistically — after the run it came in failed as a whole (twice more) if it came
    # with others.
    assert attempts[2] in (6, 8)
    assert sorted(await pool.fetchval("SELECT array_agg(n) FROM tally")) == [0, 1, 3]
    dead = await read_all(platform.bootstrap, f"{topic}.dlq", expect_at_least=1)
    assert orjson.loads(dead[0].value)["data"]["n"] == 2
    assert dict(dead[0].headers)["error"] == b"ValueError: cannot apply event 2"
    assert dict(dead[0].headers)["attempts"] == b"3"
    marked = await pool.fetchval(
        "SELECT dead_letter FROM processed_events WHERE event_id = $1",
        uuid.UUID(envelopes[2].id),
    )
    assert marked is True


async def test_a_skipped_event_is_noticed_and_the_topic_read_again(
    platform: Platform, topics: str, writer: CommandWriter, pool: asyncpg.Pool
) -> None:
    """As after a broker restart that kept a consumer's old position: the group's committed
    offset lies past events never applied. The gap in the source's sequence stays open, so
    the consumer reads the topic again from the start, and applies each event once."""
    topic = f"{topics}tanhui.issuance"
    other_db = await platform.fresh_database("issuance")
    other_pool = await asyncpg.create_pool(other_db.replace("postgresql", "postgres", 1))
    envelopes = await source_envelopes(other_pool, 6)
    await other_pool.close()
    producer = AIOKafkaProducer(bootstrap_servers=platform.bootstrap)
    await producer.start()
    try:
        for envelope in envelopes:  # one partition, in log order
            await producer.send_and_wait(topic, orjson.dumps(envelope.to_json_dict()), partition=0)
    finally:
        await producer.stop()
    group = f"{topics}skipping"
    committer = AIOKafkaConsumer(
        bootstrap_servers=platform.bootstrap, group_id=group, enable_auto_commit=False
    )
    await committer.start()
    try:
        committer.assign([TopicPartition(topic, 0)])
        await committer.commit({TopicPartition(topic, 0): 3})  # sequences 1-3 skipped
    finally:
        await committer.stop()

    consumer = EventConsumer(
        group, writer, platform.bootstrap, [topic], record_tally, gap_seconds=0.5
    )

    async def whole() -> bool:
        return consumer.watermarks[topic] == 6

    await run_until(consumer, whole)
    rows = await pool.fetch("SELECT n FROM tally ORDER BY n")
    assert [r["n"] for r in rows] == list(range(6))
    assert consumer.gaps_healed == 1 and consumer.applied == 6
    # A restarted consumer knows how far it got from its processed rows.
    again = EventConsumer(group, writer, platform.bootstrap, [topic], record_tally)
    await again._load_watermarks()
    assert again.watermarks == {topic: 6}


async def test_a_consumer_whose_pool_closed_stops_instead_of_retrying_for_ever(
    platform: Platform, topics: str, db_url: str
) -> None:
    """As when its cancellation was lost while its service stopped."""
    pool = await asyncpg.create_pool(
        db_url.replace("postgresql", "postgres", 1), min_size=1, max_size=1
    )
    await pool.close()
    writer = CommandWriter(EventStore(pool, "test"))
    topic = f"{topics}tanhui.issuance"
    consumer = _EventConsumer(f"{topics}closed", writer, platform.bootstrap, [topic], record_tally)
    async with asyncio.timeout(10):
        await consumer.run_forever()
