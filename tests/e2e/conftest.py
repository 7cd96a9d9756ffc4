from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from services.disclosure.app import create_app as disclosure_app
from services.registry.app import create_app as registry_app
from tests.conftest import Platform, running


@dataclass
class Slice:
    registry: httpx.AsyncClient
    disclosure: httpx.AsyncClient
    admin: dict[str, str]
    app: object


@pytest.fixture(name="s")
async def running_slice(platform: Platform, topics: str) -> AsyncIterator[Slice]:
    registry_settings = await platform.settings("registry", topics)
    disclosure_settings = await platform.settings("disclosure", topics)
    app = registry_app(registry_settings)  # type: ignore[arg-type]
    public = disclosure_app(disclosure_settings)  # type: ignore[arg-type]
    async with running(app) as registry, running(public) as disclosure:
        for consumer in public.state.runtime.consumers:
            await asyncio.wait_for(consumer.assigned.wait(), 30)
        yield Slice(registry, disclosure, platform.token("ORG-REGISTRY", "registry_admin"), app)
