from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from libs.events.store import EventStore
from libs.servicekit.database import asyncpg_dsn
from services.registry.app import create_app
from tests.conftest import Platform, running
from tests.e2e.conftest import Slice


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


@pytest.fixture
async def registry(platform: Platform, topics: str) -> AsyncIterator[Slice]:
    settings = await platform.settings("registry", topics, relay_enabled=False)
    app = create_app(settings)  # type: ignore[arg-type]
    async with running(app) as client:
        yield Slice(client, client, platform.token("ORG-REGISTRY", "registry_admin"), app)
