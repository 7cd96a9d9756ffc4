"""Outbox relay: publishes a service's log to its Kafka topic, in log order.

- Woken by LISTEN/NOTIFY (the append's NOTIFY fires at commit), with a poll as a fallback.
- Publishes in batches keyed by `subject`; persists the published position only after the
  broker acknowledged the whole batch, so a kill -9 re-publishes at most one batch
  (at-least-once; consumers deduplicate by event id).
- One active relay per topic across replicas, through a Postgres advisory lock.
- Topics are its business: it creates its topic and DLQ when missing, at start and after any
  failure (a broker that came back empty has none).
- A broker that lost what was published gets it back: at start, after a failure and every
  `history_check_seconds`, the relay reads the first message of each partition. A topic that
  holds what was published has the log's first event (sequence 1) first in its partition; an
  empty topic, or one whose partitions all begin later, lost its history (Tansu keeps topics in
  memory; an external cluster may be rebuilt), and the relay re-publishes the log from the
  start, in order. Consumers deduplicate by event id and heal any gap they saw meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from libs.events.kafka import dlq_for, ensure_topics, new_producer, trace_headers
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
        history_check_seconds: float = 10.0,
    ) -> None:
        self.store = store
        self.bootstrap = bootstrap
        self.topic = topic
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.republish_into_empty_topic = republish_into_empty_topic
        self.history_check_seconds = history_check_seconds
        self.position = 0
        self.published = 0
        self.republished = 0  # times the log was re-published into a topic that lost it
        self._wake = asyncio.Event()
        # The first event id of each partition when the topic was last found whole: while
        # they stay the same, the topic is the one already checked.
        self._checked_firsts: dict[int, str | None] | None = None

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
            await ensure_topics(self.bootstrap, [self.topic, dlq_for(self.topic)])
            producer = new_producer(self.bootstrap)
            probe = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
            await producer.start()
            await probe.start()
            try:
                self.position = await self._load_position(conn)
                await self._pump(conn, producer, probe)
            finally:
                await within(f"relay for {self.topic}: the producer's stop", producer.stop())
                await within(f"relay for {self.topic}: the probe's stop", probe.stop())
                # A connection lost with the database is already gone, and its listener too.
                with contextlib.suppress(asyncpg.InterfaceError, asyncpg.PostgresError, OSError):
                    await conn.remove_listener(self.store.notify_channel, self._on_notify)

    async def _pump(
        self, conn: asyncpg.Connection, producer: object, probe: AIOKafkaConsumer
    ) -> None:
        checked_at = -float("inf")
        while True:
            if time.monotonic() - checked_at >= self.history_check_seconds:
                await self._restore_lost_history(probe)
                checked_at = time.monotonic()
            self._wake.clear()
            published = await self.publish_batch(conn, producer)
            if published < self.batch_size:
                await sleep_until_set(self._wake, self.poll_interval)

    async def _restore_lost_history(self, probe: AIOKafkaConsumer) -> None:
        if not self.republish_into_empty_topic or self.position == 0:
            return
        records = await _first_records(probe, self.topic)
        firsts = {partition: _event_field(record, "id") for partition, record in records.items()}
        if firsts == self._checked_firsts:
            return
        first_sequences = {_event_field(record, "sequence") for record in records.values()}
        truncated = any(record is _TRUNCATED for record in records.values())
        if not truncated and 1 not in first_sequences:
            log.warning(
                "topic %s lost what was published (its partitions begin at %s): re-publishing"
                " the log from the start",
                self.topic,
                sorted(s for s in first_sequences if s is not None) or "nothing",
            )
            self.position = 0
            self.republished += 1
        self._checked_firsts = firsts

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


async def _first_records(probe: AIOKafkaConsumer, topic: str) -> dict[int, Any]:
    """The first record of each partition of `topic` (None for an empty one). Offsets from 0
    only: a topic truncated by retention cannot be judged and is taken as whole."""
    partitions = [TopicPartition(topic, p) for p in sorted(await _partitions(probe, topic))]
    starts = await probe.beginning_offsets(partitions)
    ends = await probe.end_offsets(partitions)
    firsts: dict[int, Any] = {tp.partition: None for tp in partitions}
    wanted = [tp for tp in partitions if ends[tp] > starts[tp] == 0]
    if any(starts[tp] > 0 for tp in partitions):
        return {tp.partition: _TRUNCATED for tp in partitions}
    if not wanted:
        return firsts
    probe.assign(wanted)
    for tp in wanted:
        probe.seek(tp, 0)
    try:
        async with asyncio.timeout(5):
            while any(firsts[tp.partition] is None for tp in wanted):
                batches = await probe.getmany(*wanted, timeout_ms=500, max_records=len(wanted))
                for tp, records in batches.items():
                    if records and firsts[tp.partition] is None:
                        firsts[tp.partition] = records[0]
    except TimeoutError:
        # The broker did not hand the first records over: nothing to judge by this time.
        # Publishing goes on; the next check (or failure) looks again.
        log.warning("relay for %s could not read its topic's first records", topic)
        return {tp.partition: _TRUNCATED for tp in partitions}
    return firsts


# A partition whose first records cannot be read: retention deleted them, or the broker did
# not hand them over in time. The topic is then not judged.
_TRUNCATED = object()


def _event_field(record: Any, name: str) -> Any:
    if record is None or record is _TRUNCATED:
        return None
    try:
        return orjson.loads(record.value).get(name)
    except (orjson.JSONDecodeError, AttributeError, TypeError):
        return None
