"""Idempotent Kafka consumer with exactly-once effects.

For each run of messages fetched together, the handler's effects and the rows "consumer C
processed event X" commit in one transaction (through the service's CommandWriter): the
service's set-wise batch handler, or its per-event handler for each event in turn. A run that
fails is applied again message by message (each its own transaction, group-committed), so that
one bad message is found and the others go through. Offsets are
committed manually after those transactions, so a crash redelivers and the processed-events
row turns the redelivery into a no-op. A message that still fails after `max_attempts` goes to
`<topic>.dlq` with the error, is recorded as dead-lettered, and the consumer moves on.

Never skipping: each processed row records the source topic and the event's `sequence`, which
the source log assigns without gaps. The consumer keeps, per source topic, the sequence up to
which it has applied everything (`watermarks`); a gap that stays open while nothing is left
to read (a recreated topic, offsets lost with a broker) makes it read the topic again from the
beginning (`gaps_healed`). A committed offset past a topic's end restarts from the earliest
offset; the source topics (and their DLQs) are created if missing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from opentelemetry import propagate, trace
from pydantic import ValidationError

from libs.events import plumbing_store
from libs.events.envelope import Envelope
from libs.events.kafka import dlq_for, ensure_topics, headers_to_carrier, new_producer
from libs.events.outages import database_unreachable
from libs.events.sequence_gaps import SequenceTracker
from libs.events.shutdown import within
from libs.events.store import EventContext, EventTransaction, Queryable
from libs.events.writer import CommandWriter

log = logging.getLogger(__name__)
tracer = trace.get_tracer("tanhui.events.consumer")

Handler = Callable[[EventTransaction, Envelope], Awaitable[None]]
# Applies a run of events (in log order, each new to this consumer) in one transaction.
BatchHandler = Callable[[EventTransaction, Sequence[Envelope]], Awaitable[None]]


def one_by_one(handler: Handler) -> BatchHandler:
    """A run's events applied one after the other in its transaction (one processed-events
    statement and one commit per run, as with a set-wise handler)."""

    async def apply(tx: EventTransaction, envelopes: Sequence[Envelope]) -> None:
        for envelope in envelopes:
            await handler(tx, envelope)

    return apply


class PoisonMessage(Exception):
    """The message is not a valid envelope; retrying cannot help."""


class EventConsumer:
    def __init__(
        self,
        name: str,
        writer: CommandWriter,
        bootstrap: str,
        topics: Sequence[str],
        handler: Handler,
        max_attempts: int = 3,
        retry_delay: float = 0.05,
        max_records: int = 500,
        group_id: str | None = None,
        session_timeout_ms: int = 6000,
        gap_seconds: float = 5.0,
        batch_handler: BatchHandler | None = None,
    ) -> None:
        self.name = name  # scope of the processed-events records
        self.group_id = group_id or name
        # Tansu delays a group join by half the session timeout; real Kafka enforces a minimum
        # (6 s by default). Heartbeats at a tenth of it keep a live member in the group.
        self.session_timeout_ms = session_timeout_ms
        self.writer = writer
        self.bootstrap = bootstrap
        self.topics = list(topics)
        self.handler = handler
        # A run of several events is applied in one transaction either way: set-wise by the
        # service's batch handler, or event by event by its handler.
        self.batch_handler = batch_handler or one_by_one(handler)
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.max_records = max_records
        self.lag: dict[str, int] = {}
        self.applied = 0
        self.duplicates = 0
        self.dead_lettered = 0
        self.assigned = asyncio.Event()  # set once the group gave this consumer partitions
        # How long a gap may stay open, with nothing left to read, before a re-read.
        self.gap_seconds = gap_seconds
        self.trackers = {topic: SequenceTracker() for topic in self.topics}
        self.gaps_healed = 0

    @property
    def watermarks(self) -> dict[str, int]:
        """Per source topic: the last source sequence up to which every event was applied."""
        return {topic: tracker.watermark for topic, tracker in self.trackers.items()}

    @property
    def total_lag(self) -> int:
        return sum(self.lag.values())

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run()
            except asyncio.CancelledError:
                raise
            except Exception:
                # A closed pool means the service stopped: this task's cancellation was lost
                # (a driver's internal `wait_for` on Python 3.11 can drop one), so end here
                # rather than retry for ever.
                if self.writer.store.pool.is_closing():
                    log.warning("consumer %s: its database pool is closed; stopping", self.name)
                    return
                log.exception("consumer %s failed; restarting", self.name)
                await asyncio.sleep(1.0)

    async def run(self) -> None:
        # A broker that came back empty has no topics: subscribing would wait for ever.
        await ensure_topics(self.bootstrap, self.topics + [dlq_for(t) for t in self.topics])
        await self._load_watermarks()
        consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",  # also where a committed offset is past the end
            session_timeout_ms=self.session_timeout_ms,
            heartbeat_interval_ms=max(100, self.session_timeout_ms // 10),
            metadata_max_age_ms=5000,  # notice recreated topics within seconds
        )
        producer = new_producer(self.bootstrap)
        await consumer.start()
        await producer.start()
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=self.max_records)
                if consumer.assignment():
                    self.assigned.set()
                for tp, records in batches.items():
                    await self._process(records, producer)
                    await consumer.commit({tp: records[-1].offset + 1})
                await self._measure_lag(consumer)
                if not batches:
                    await self._heal_gaps(consumer)
        finally:
            self.assigned.clear()
            await within(f"consumer {self.name}: the DLQ producer's stop", producer.stop())
            await within(f"consumer {self.name}: leaving the group", consumer.stop())

    async def _process(self, records: list[ConsumerRecord[Any, Any]], producer: Any) -> None:
        if len(records) > 1:
            try:
                applied = await self._submit_batch(records)
            except Exception as exc:
                if database_unreachable(exc):
                    raise
                # One bad event fails the run: apply them one by one to find (and
                # dead-letter) it; the others go through as usual.
                log.warning("consumer %s: a run of %d failed (%r)", self.name, len(records), exc)
            else:
                self.applied += applied
                self.duplicates += len(records) - applied
                return
        # Submit the whole batch at once (in order) so it group-commits; retry failures alone.
        pending = [self._submit(record) for record in records]
        outcomes = await asyncio.gather(*pending, return_exceptions=True)
        for record, outcome in zip(records, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                await self._retry_or_dead_letter(record, outcome, producer)
            elif outcome:
                self.applied += 1
            else:
                self.duplicates += 1

    async def _submit(self, record: ConsumerRecord[Any, Any]) -> bool:
        envelope = decode(record.value)
        parent = propagate.extract(headers_to_carrier(record.headers))
        with tracer.start_as_current_span(f"consume {envelope.type}", context=parent) as span:
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            span.set_attribute("messaging.destination.name", record.topic)
            context = EventContext(
                actor="system",
                correlation_id=envelope.correlationid or envelope.id,
                causation_id=envelope.id,
                traceparent=carrier.get("traceparent"),
            )

            async def apply(tx: EventTransaction) -> bool:
                first_time = await plumbing_store.mark_processed(
                    tx, self.name, envelope.id, record.topic, envelope.sequence
                )
                if not first_time:
                    return False
                await self.handler(tx, envelope)
                return True

            applied = await self.writer.execute(apply, context)
            self._applied(record.topic, envelope.sequence)
            return applied

    async def _submit_batch(self, records: list[ConsumerRecord[Any, Any]]) -> int:
        """The run in one transaction: its events recorded as processed in one statement, the
        new ones handed to the batch handler together. The number applied."""
        batch_handler = self.batch_handler
        envelopes = [decode(record.value) for record in records]
        context = EventContext(actor="system", correlation_id=envelopes[0].id)

        async def apply(tx: EventTransaction) -> int:
            new = await record_run(tx, self.name, envelopes, [r.topic for r in records])
            await batch_handler(tx, new)
            return len(new)

        with tracer.start_as_current_span(f"consume {len(records)} events"):
            applied = await self.writer.execute(apply, context)
        for record, envelope in zip(records, envelopes, strict=True):
            self._applied(record.topic, envelope.sequence)
        return applied

    def _applied(self, topic: str, sequence: int) -> None:
        tracker = self.trackers.get(topic)
        if tracker is not None:
            tracker.applied(sequence, time.monotonic())

    async def _heal_gaps(self, consumer: AIOKafkaConsumer) -> None:
        """Read a topic again from the beginning when a gap in its sequence stayed open while
        nothing was left to read: the events behind it were skipped, never to come."""
        if self.total_lag > 0:
            return
        now = time.monotonic()
        for topic, tracker in self.trackers.items():
            if tracker.missing_after is None or tracker.gap_open_for(now) < self.gap_seconds:
                continue
            partitions = [tp for tp in consumer.assignment() if tp.topic == topic]
            if not partitions:
                continue
            log.warning(
                "consumer %s: %s has no sequence %d although later ones arrived; re-reading it",
                self.name,
                topic,
                tracker.watermark + 1,
            )
            await consumer.seek_to_beginning(*partitions)
            tracker.rereading(now)
            self.gaps_healed += 1

    async def _load_watermarks(self) -> None:
        """Each source topic's tracker as the processed rows say (a restart keeps its place)."""
        now = time.monotonic()
        for topic in self.topics:
            tracker = SequenceTracker()
            islands = await plumbing_store.applied_runs(self.writer.store.pool, self.name, topic)
            for first, last in islands:
                if first == tracker.watermark + 1:
                    tracker.watermark = last
                else:
                    for sequence in range(first, last + 1):
                        tracker.applied(sequence, now)
            self.trackers[topic] = tracker

    async def _retry_or_dead_letter(
        self, record: ConsumerRecord[Any, Any], error: BaseException, producer: Any
    ) -> None:
        if database_unreachable(error):
            # Not the message's fault: leave it uncommitted; the consumer restarts and reads
            # it again once the database is back (never dead-lettered for an outage).
            raise error
        attempts = 1
        while not isinstance(error, PoisonMessage) and attempts < self.max_attempts:
            await asyncio.sleep(self.retry_delay * attempts)
            attempts += 1
            try:
                applied = await self._submit(record)
            except Exception as exc:
                if database_unreachable(exc):
                    raise
                error = exc
                continue
            self.applied += int(applied)
            self.duplicates += int(not applied)
            return
        await self._dead_letter(record, error, attempts, producer)

    async def _dead_letter(
        self, record: ConsumerRecord[Any, Any], error: BaseException, attempts: int, producer: Any
    ) -> None:
        log.warning(
            "consumer %s sends %s[%d]@%d to the DLQ after %d attempt(s): %s",
            self.name,
            record.topic,
            record.partition,
            record.offset,
            attempts,
            error,
        )
        headers = [
            ("error", f"{type(error).__name__}: {error}"[:2000].encode()),
            ("consumer", self.name.encode()),
            ("source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
            ("attempts", str(attempts).encode()),
            *list(record.headers or ()),
        ]
        future = await producer.send(
            dlq_for(record.topic), key=record.key, value=record.value, headers=headers
        )
        await future
        envelope = _envelope_or_none(record.value)
        if envelope is not None:  # handled, though not applied: no gap in the sequence
            await self.writer.execute(lambda tx: _mark_dead(tx, self.name, envelope, record.topic))
            self._applied(record.topic, envelope.sequence)
        self.dead_lettered += 1

    async def _measure_lag(self, consumer: AIOKafkaConsumer) -> None:
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is not None:
                position = await consumer.position(tp)
                self.lag[f"{tp.topic}/{tp.partition}"] = max(0, highwater - position)


def decode(value: bytes | None) -> Envelope:
    if value is None:
        raise PoisonMessage("message has no value")
    try:
        return Envelope.model_validate(orjson.loads(value))
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise PoisonMessage(f"not a Tanhui event envelope: {exc}") from exc


def _envelope_or_none(value: bytes | None) -> Envelope | None:
    try:
        return decode(value)
    except PoisonMessage:
        return None


async def _mark_dead(tx: EventTransaction, consumer: str, envelope: Envelope, topic: str) -> None:
    await plumbing_store.mark_dead(tx, consumer, envelope.id, topic, envelope.sequence)


async def record_run(
    tx: Queryable, consumer: str, envelopes: Sequence[Envelope], topics: Sequence[str]
) -> list[Envelope]:
    """Record a run of events as processed by `consumer`, in one statement; those new to it,
    in log order (an event twice in the run: once)."""
    ids, sequences = [e.id for e in envelopes], [e.sequence for e in envelopes]
    fresh = await plumbing_store.mark_run_processed(tx, consumer, ids, topics, sequences)
    new: list[Envelope] = []
    for envelope in envelopes:
        if envelope.id in fresh:
            fresh.discard(envelope.id)
            new.append(envelope)
    return new
