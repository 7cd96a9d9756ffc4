"""Shared fixtures: a real embedded PostgreSQL and Tansu broker, started once per session on
free ports in a temporary state directory (so the suite runs beside `make run`), a fresh
database per test cloned from a migrated template, and unique topic names per test."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

# Loaded up front: imported late (by its plugin, at the end of a run that used no property test),
# its modules hit an AST recursion error under pytest's assertion rewriting on Python 3.11.7.
import hypothesis  # noqa: F401
import pytest
from fastapi import FastAPI

from libs.devstack.broker import TansuBroker
from libs.devstack.postgres import EmbeddedPostgres
from libs.devstack.processes import free_port
from libs.events.kafka import SERVICES, ensure_topics, platform_topics
from libs.servicekit.database import asyncpg_dsn, ensure_database, upgrade, with_database
from libs.servicekit.devtokens import ensure_dev_keys, issue_token
from libs.servicekit.entries import service_entries
from libs.servicekit.settings import ServiceSettings
from tests import watchdog
from tests.watchdog import (  # noqa: F401  (hooks: the per-test deadline, overruns reported)
    pytest_runtest_protocol,
    pytest_terminal_summary,
)


@dataclass
class Platform:
    state_dir: Path
    server_url: str
    bootstrap: str
    jwks_file: Path

    async def fresh_database(self, service: str) -> str:
        """A new database with `service`'s migrations applied, cloned from a template."""
        url = with_database(self.server_url, f"t_{service}_{uuid.uuid4().hex[:12]}")
        await ensure_database(url, template=f"template_{service}")
        return url

    async def settings(self, service: str, prefix: str, **overrides: object) -> ServiceSettings:
        cls = service_entries()[service].settings
        values: dict[str, object] = {
            "env": "test",
            "kafka_bootstrap_servers": self.bootstrap,
            "topic_prefix": prefix,
            "jwks_file": self.jwks_file,
            "db_pool_size": 5,
            "kafka_session_timeout_ms": 2000,
        }
        values.update(overrides)
        settings = cls.model_validate(values)
        settings.database_url = await self.fresh_database(service)
        return settings

    def token(self, org: str, *roles: str) -> dict[str, str]:
        return {"Authorization": "Bearer " + issue_token(self.state_dir, org, list(roles))}


@pytest.fixture(scope="session")
def platform() -> Iterator[Platform]:
    with tempfile.TemporaryDirectory(prefix="tanhui-test-") as tmp:
        state = Path(tmp)
        postgres = EmbeddedPostgres(state / "pg", free_port(), durable=False)
        broker = TansuBroker(state / "kafka", free_port())
        try:
            watchdog.on_abort(postgres.stop)
            watchdog.on_abort(broker.stop)
            server_url = postgres.start()
            bootstrap = broker.start()
            asyncio.run(_templates(server_url))
            yield Platform(state, server_url, bootstrap, ensure_dev_keys(state))
        finally:
            broker.stop()
            postgres.stop()


async def _templates(server_url: str) -> None:
    for service in SERVICES:
        url = with_database(server_url, f"template_{service}")
        await ensure_database(url)
        await asyncio.to_thread(upgrade, service, url)
        conn = await asyncpg.connect(asyncpg_dsn(with_database(server_url, "postgres")))
        try:
            await conn.execute(f"ALTER DATABASE template_{service} WITH IS_TEMPLATE true")
        finally:
            await conn.close()


@pytest.fixture(autouse=True)
async def _watched(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    watchdog.watch_loop(asyncio.get_running_loop())
    expected = request.node.get_closest_marker("overruns_expected") is not None
    with watchdog.shutdown_overruns(request.node.nodeid, expected):
        yield


@pytest.fixture
def topic_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
async def topics(platform: Platform, topic_prefix: str) -> str:
    await ensure_topics(platform.bootstrap, platform_topics(topic_prefix))
    return topic_prefix


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run an app's lifespan (writer, relay, consumers) and talk HTTP to it through ASGI."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client
