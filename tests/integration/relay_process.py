"""Runs an outbox relay in its own process, so a test can kill -9 it."""

from __future__ import annotations

import asyncio
import sys

import asyncpg

from libs.events.relay import OutboxRelay
from libs.events.store import EventStore


async def main(dsn: str, bootstrap: str, topic: str, batch_size: int) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    relay = OutboxRelay(EventStore(pool, "test"), bootstrap, topic, batch_size=batch_size)
    await relay.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
