from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from libs.events.store import EventStore
from libs.servicekit.database import asyncpg_dsn
from tests.conftest import Platform


@pytest.fixture
async def db_url(platform: Platform) -> str:
    return await platform.fresh_database("issuance")  # any service: all carry the event store


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(asyncpg_dsn(db_url), min_size=1, max_size=20)
    yield pool
    await pool.close()


@pytest.fixture
async def store(pool: asyncpg.Pool) -> EventStore:
    return EventStore(pool, "test")
