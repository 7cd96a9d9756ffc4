"""Outbox relay: publishes a service's log to its Kafka topic, in log order.

- Woken by LISTEN/NOTIFY (the append's NOTIFY fires at commit), with a poll as a fallback.
- Publishes in batches keyed by `subject`; persists the published position only after the
  broker acknowledged the whole batch, so a kill -9 re-publishes at most one batch
  (at-least-once; consumers deduplicate by event id).
- One active relay per topic across replicas, through a Postgres advisory lock.
- Tansu keeps topics in memory: if the topic is empty while the saved position is not zero,
  the broker is new and the relay re-publishes the log from the start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from libs.events.kafka import new_producer, trace_headers
from libs.events.shutdown import within
from libs.events.store import EventStore

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        store: EventStore,
        bootstrap: str,
        topic: str,
        batch_size: int = 2000,
        poll_interval: float = 1.0,
        republish_into_empty_topic: bool = True,
    ) -> None:
        self.store = store
        self.bootstrap = bootstrap
        self.topic = topic
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.republish_into_empty_topic = republish_into_empty_topic
        self.position = 0
        self.published = 0
        self._wake = asyncio.Event()

    async def run_forever(self) -> None:
        """Run, restarting after broker or database failures."""
        while True:
            try:
                await self.run()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("relay for %s failed; restarting", self.topic)
                await asyncio.sleep(1.0)

    async def run(self) -> None:
        async with self.store.pool.acquire() as conn:
            # The published position needs no flush to disk: losing its last update in a crash
            # only re-publishes a batch, which consumers deduplicate. (Reset when released.)
            await conn.execute("SET synchronous_commit = off")
            await self._become_leader(conn)
            await conn.add_listener(self.store.notify_channel, self._on_notify)
            producer = new_producer(self.bootstrap)
            await producer.start()
            try:
                self.position = await self._load_position(conn)
                if (
                    self.republish_into_empty_topic
                    and self.position > 0
                    and (await self._topic_is_empty())
                ):
                    log.info("topic %s is empty: re-publishing the log", self.topic)
                    self.position = 0
                await self._pump(conn, producer)
            finally:
                await within(f"relay for {self.topic}: the producer's stop", producer.stop())
                await conn.remove_listener(self.store.notify_channel, self._on_notify)

    async def _pump(self, conn: asyncpg.Connection, producer: object) -> None:
        while True:
            self._wake.clear()
            published = await self.publish_batch(conn, producer)
            if published < self.batch_size:
                await sleep_until_set(self._wake, self.poll_interval)

    async def publish_batch(self, conn: asyncpg.Connection, producer: object) -> int:
        batch = await self.store.read_after(self.position, self.batch_size)
        if not batch:
            return 0
        sends = []
        for envelope in batch:
            sends.append(
                await producer.send(  # type: ignore[attr-defined]
                    self.topic,
                    key=envelope.subject.encode(),
                    value=orjson.dumps(envelope.to_json_dict()),
                    headers=trace_headers(envelope.traceparent),
                )
            )
        await asyncio.gather(*sends)
        self.position = batch[-1].sequence
        await conn.execute(
            "INSERT INTO relay_positions (topic, sequence) VALUES ($1, $2)"
            " ON CONFLICT (topic) DO UPDATE SET sequence = excluded.sequence",
            self.topic,
            self.position,
        )
        self.published += len(batch)
        return len(batch)

    async def republish_from(self, sequence: int) -> None:
        """Make the next run start after `sequence` (0 = the whole log)."""
        await self.store.pool.execute(
            "INSERT INTO relay_positions (topic, sequence) VALUES ($1, $2)"
            " ON CONFLICT (topic) DO UPDATE SET sequence = excluded.sequence",
            self.topic,
            sequence,
        )

    async def lag(self) -> int:
        head, _ = await self.store.head()
        return head - self.position

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _become_leader(self, conn: asyncpg.Connection) -> None:
        key = zlib.crc32(f"relay:{self.topic}".encode())
        # Blocks while another replica's relay is active; it takes over when that one's
        # session ends (crash included), since advisory locks die with their connection.
        await conn.execute("SELECT pg_advisory_lock($1)", key)

    async def _load_position(self, conn: asyncpg.Connection) -> int:
        value = await conn.fetchval(
            "SELECT sequence FROM relay_positions WHERE topic = $1", self.topic
        )
        return int(value or 0)

    async def _topic_is_empty(self) -> bool:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap)
        await consumer.start()
        try:
            partitions = await _partitions(consumer, self.topic)
            ends = await consumer.end_offsets([TopicPartition(self.topic, p) for p in partitions])
            return bool(sum(ends.values()) == 0)
        finally:
            await within(f"relay for {self.topic}: the probe consumer's stop", consumer.stop())


async def sleep_until_set(event: asyncio.Event, seconds: float) -> None:
    """Wait for `event`, at most `seconds`, and stay cancellable.

    Not `asyncio.wait_for`: on Python 3.11, a task cancelled in the same loop turn as the
    event is set gets the event back and loses the cancellation (gh-86296); the relay's loop
    then ran on and its service's stop waited on it for ever."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    for _ in range(50):
        partitions = consumer.partitions_for_topic(topic)
        if partitions:
            return set(partitions)
        await consumer._client.force_metadata_update()
        await asyncio.sleep(0.1)
    raise RuntimeError(f"topic {topic} has no partitions")
