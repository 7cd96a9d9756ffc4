"""Kafka plumbing shared by the relay and consumers: topics, producers, trace headers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterable, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from opentelemetry import propagate

log = logging.getLogger(__name__)

SERVICES = ("registry", "issuance", "matching", "disclosure")


def topic_for(service: str) -> str:
    return f"tanhui.{service}"


def dlq_for(topic: str) -> str:
    return f"{topic}.dlq"


def platform_topics(prefix: str = "") -> list[str]:
    """Every topic of docs/events.md and its dead-letter topic."""
    topics = [prefix + topic_for(s) for s in SERVICES]
    return topics + [dlq_for(t) for t in topics]


async def ensure_topics(bootstrap: str, topics: Iterable[str], partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            new = [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in missing]
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(new)
    finally:
        await admin.close()


async def rebuild_topic(bootstrap: str, topic: str, partitions: int = 3) -> None:
    """Delete `topic` and create it again, empty, for a relay to re-publish its log into.

    For a topic that lost what was published: what is left in it is a partial copy (a broker
    that came back empty and took new events since), and on Tansu's in-memory storage possibly
    a damaged one — a topic created by two clients at once (any client's metadata request
    creates a missing topic) can have a producer's first writes land before the creation resets
    the partitions' offsets, after which writes collide and records hide behind a stale end
    offset. A fresh topic, created once, with nobody producing into it meanwhile, is whole."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([topic])  # an error code here: it was gone already
        new = NewTopic(topic, num_partitions=partitions, replication_factor=1)
        # A cluster deletes asynchronously: create once it is gone. Still "exists" after a
        # while: another client's metadata request created it anew, empty — as good.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            response = await admin.create_topics([new])
            if all(code == 0 for _, code, *_ in response.topic_errors):
                break
            await asyncio.sleep(0.2)
    finally:
        await admin.close()
    # Clients that asked for the topic meanwhile may create it too; let their creation settle
    # before anything is produced into it.
    await asyncio.sleep(_SETTLE_SECONDS)


_SETTLE_SECONDS = 1.0


def new_producer(bootstrap: str) -> AIOKafkaProducer:
    # acks=all and no idempotence: Tansu's in-memory build lacks idempotent producers, so
    # delivery is at-least-once and every consumer deduplicates by event id.
    # A send to a topic the broker no longer knows fails within 10 s (not aiokafka's 40 s
    # default), so that the relay re-creates its topic and re-checks what it holds sooner.
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=2,
        max_batch_size=1 << 20,
        request_timeout_ms=10_000,
    )


Headers = Sequence[tuple[str, bytes]]


def trace_headers(traceparent: str | None) -> list[tuple[str, bytes]]:
    """Kafka headers carrying the W3C trace context of the event (or the current span)."""
    if traceparent:
        return [("traceparent", traceparent.encode())]
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return [(k, v.encode()) for k, v in carrier.items()]


def headers_to_carrier(headers: Headers | None) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in (headers or ())}


async def read_whole_topics(
    bootstrap: str, topics: Sequence[str], quiet_ms: int = 1500
) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Every record of `topics` from offset 0, each partition in order (partitions and topics
    interleaved), until a poll stays empty for `quiet_ms` (Tansu's end offsets are not the next
    offset: counting on them would stop early or wait forever). No consumer group: nothing is
    committed."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        wanted = [tp for topic in topics for tp in await _partitions(consumer, topic)]
        if not wanted:
            return
        consumer.assign(wanted)
        await consumer.seek_to_beginning(*wanted)
        while batch := await consumer.getmany(timeout_ms=quiet_ms):
            for records in batch.values():
                for record in records:
                    yield record
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    partitions = consumer.partitions_for_topic(topic)
    for _ in range(100):
        if partitions:
            break
        await consumer._client.force_metadata_update()
        await asyncio.sleep(0.05)
        partitions = consumer.partitions_for_topic(topic)
    return [TopicPartition(topic, p) for p in sorted(partitions or ())]
