"""Reading and writing test topics directly.

Tansu (in-memory build) reports a partition's end offset as the base offset of its last record
batch + 1, not the next offset, so these helpers count records instead of trusting end offsets.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition


async def read_all(
    bootstrap: str, topic: str, expect_at_least: int = 0, timeout: float = 20
) -> list[Any]:
    """Every record in `topic`: waits for `expect_at_least`, then drains until a quiet poll."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        partitions = consumer.partitions_for_topic(topic)
        while not partitions:
            await consumer._client.force_metadata_update()
            await asyncio.sleep(0.05)
            partitions = consumer.partitions_for_topic(topic)
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list[Any] = []
        while True:
            batch = await consumer.getmany(timeout_ms=300)
            for tp_records in batch.values():
                records.extend(tp_records)
            enough = len(records) >= expect_at_least
            if (enough and not batch) or loop.time() > deadline:
                return records
    finally:
        await consumer.stop()


async def produce(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(topic, key=key, value=value)
    finally:
        await producer.stop()
