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
  memory; an external cluster may be rebuilt). The relay then rebuilds it (deletes the partial
  copy, creates it afresh: see `rebuild_topic`) and re-publishes the log from the start, in
  order. Consumers deduplicate by event id and heal any gap they saw meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from enum import Enum
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from libs.events import plumbing_store
from libs.events.kafka import dlq_for, ensure_topics, new_producer, rebuild_topic, trace_headers
from libs.events.sessions import session_changed
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
        self._unreadable_checks = 0  # consecutive history checks that could not read the topic

    async def run_forever(self) -> None:
        """Run, restarting after broker or database failures."""
        while True:
            try:
                await self.run()
            except asyncio.CancelledError:
                raise
            except Exception:
                if self.store.pool.is_closing():  # stopped: see `EventConsumer.run_forever`
                    log.warning("relay for %s: its database pool is closed; stopping", self.topic)
                    return
                log.exception("relay for %s failed; restarting", self.topic)
                await asyncio.sleep(1.0)

    async def run(self) -> None:
        async with self.store.pool.acquire() as conn:
            session_changed(conn)  # reset in full when released
            # The published position needs no flush to disk: losing its last update in a crash
            # only re-publishes a batch, which consumers deduplicate.
            await conn.execute("SET synchronous_commit = off")
            await self._become_leader(conn)
            await ensure_topics(self.bootstrap, [self.topic, dlq_for(self.topic)])
            # Listening from here on only: a connection released with a listener left on it
            # makes asyncpg warn in the middle of the release (an error under the tests).
            await conn.add_listener(self.store.notify_channel, self._on_notify)
            try:
                self.position = await self._load_position(conn)
                while True:  # a new producer after each rebuild: it knows the new partitions
                    await self._publish_until_rebuilt(conn)
            finally:
                # A connection lost with the database is already gone, and its listener too.
                with contextlib.suppress(asyncpg.InterfaceError, asyncpg.PostgresError, OSError):
                    await conn.remove_listener(self.store.notify_channel, self._on_notify)

    async def _publish_until_rebuilt(self, conn: asyncpg.Connection) -> None:
        producer = new_producer(self.bootstrap)
        await producer.start()
        try:
            await self._pump(conn, producer)
        finally:
            await within(f"relay for {self.topic}: the producer's stop", producer.stop())

    async def _pump(self, conn: asyncpg.Connection, producer: object) -> None:
        """Publish as the log grows; return when the topic was rebuilt."""
        checked_at = -float("inf")
        while True:
            if time.monotonic() - checked_at >= self.history_check_seconds:
                if await self._restore_lost_history(conn):
                    return
                checked_at = time.monotonic()
            self._wake.clear()
            published = await self.publish_batch(conn, producer)
            if published < self.batch_size:
                await sleep_until_set(self._wake, self.poll_interval)

    async def _restore_lost_history(self, conn: asyncpg.Connection) -> bool:
        """True when the topic had lost what was published and was rebuilt, empty, for the
        log to be re-published from the start."""
        if not self.republish_into_empty_topic or self.position == 0:
            return False
        records = await _first_records(self.bootstrap, self.topic)
        if records is Unjudged.TRUNCATED:
            return False  # retention deleted the first records: nothing to judge by
        if records is Unjudged.UNREADABLE:
            # A healthy broker hands over a first record in milliseconds. One that stays
            # unreadable check after check is damaged (on Tansu's in-memory storage, a topic
            # created by two clients at once can end up with a hole at offset 0).
            self._unreadable_checks += 1
            if self._unreadable_checks < UNREADABLE_CHECKS_BEFORE_REBUILD:
                return False
            return await self._rebuild(conn, "its first records stay unreadable")
        self._unreadable_checks = 0
        firsts = {partition: _event_field(record, "id") for partition, record in records.items()}
        if firsts == self._checked_firsts:
            return False
        first_sequences = {_event_field(record, "sequence") for record in records.values()}
        if 1 in first_sequences:
            self._checked_firsts = firsts
            return False
        begins = sorted(s for s in first_sequences if s is not None) or "nothing"
        return await self._rebuild(conn, f"its partitions begin at {begins}")

    async def _rebuild(self, conn: asyncpg.Connection, why: str) -> bool:
        log.warning(
            "topic %s lost what was published (%s): rebuilding it and re-publishing the log"
            " from the start",
            self.topic,
            why,
        )
        # Saved first: a relay that fails mid-way (the broker, the database) resumes the
        # re-publication instead of forgetting it behind an unchanged first-records check.
        await plumbing_store.save_relay_position(conn, self.topic, 0)
        self.position = 0
        await rebuild_topic(self.bootstrap, self.topic)
        self.republished += 1
        self._checked_firsts = None
        self._unreadable_checks = 0
        return True

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
        await plumbing_store.save_relay_position(conn, self.topic, self.position)
        self.published += len(batch)
        return len(batch)

    async def republish_from(self, sequence: int) -> None:
        """Make the next run start after `sequence` (0 = the whole log)."""
        await plumbing_store.save_relay_position(self.store.pool, self.topic, sequence)

    async def lag(self) -> int:
        head, _ = await self.store.head()
        return head - self.position

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _become_leader(self, conn: asyncpg.Connection) -> None:
        key = zlib.crc32(f"relay:{self.topic}".encode())
        # Blocks while another replica's relay is active; it takes over when that one's
        # session ends (crash included), since advisory locks die with their connection.
        await plumbing_store.take_advisory_lock(conn, key)

    async def _load_position(self, conn: asyncpg.Connection) -> int:
        return await plumbing_store.relay_position(conn, self.topic)


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


async def _first_records(bootstrap: str, topic: str) -> dict[int, Any] | Unjudged:
    """The first record of each partition of `topic` (None for an empty one). Offsets from 0
    only: a topic truncated by retention cannot be judged and is taken as whole.

    A new reader each time: one kept across a broker restart held the old topic's metadata
    and fetch state, and never read the new topic's records."""
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await probe.start()
    try:
        return await _read_first_records(probe, topic)
    finally:
        await within(f"relay for {topic}: the probe's stop", probe.stop())


async def _read_first_records(probe: AIOKafkaConsumer, topic: str) -> dict[int, Any] | Unjudged:
    partitions = [TopicPartition(topic, p) for p in sorted(await _partitions(probe, topic))]
    starts = await probe.beginning_offsets(partitions)
    ends = await probe.end_offsets(partitions)
    firsts: dict[int, Any] = {tp.partition: None for tp in partitions}
    wanted = [tp for tp in partitions if ends[tp] > starts[tp] == 0]
    if any(starts[tp] > 0 for tp in partitions):
        return Unjudged.TRUNCATED
    if not wanted:
        return firsts
    probe.assign(wanted)
    for tp in wanted:
        probe.seek(tp, 0)
    try:
        async with asyncio.timeout(FIRST_RECORDS_SECONDS):
            while any(firsts[tp.partition] is None for tp in wanted):
                batches = await probe.getmany(*wanted, timeout_ms=500, max_records=len(wanted))
                for tp, records in batches.items():
                    if records and firsts[tp.partition] is None:
                        firsts[tp.partition] = records[0]
    except TimeoutError:
        log.warning("relay for %s could not read its topic's first records", topic)
        return Unjudged.UNREADABLE
    return firsts


class Unjudged(Enum):
    """What a history check can find instead of the first records."""

    TRUNCATED = "retention deleted them: the topic is not judged"
    UNREADABLE = "the broker did not hand them over in time"


FIRST_RECORDS_SECONDS = 3.0
UNREADABLE_CHECKS_BEFORE_REBUILD = 3


def _event_field(record: Any, name: str) -> Any:
    if record is None:
        return None
    try:
        return orjson.loads(record.value).get(name)
    except (orjson.JSONDecodeError, AttributeError, TypeError):
        return None
