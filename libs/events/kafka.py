"""Kafka plumbing shared by the relay and consumers: topics, producers, trace headers."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Sequence

from aiokafka import AIOKafkaProducer
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
    """Every topic of DESIGN §2 and its dead-letter topic."""
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
