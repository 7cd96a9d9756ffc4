from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from libs.servicekit.devtokens import issue_token
from services.disclosure.app import create_app as disclosure_app
from services.issuance.app import create_app as issuance_app
from services.registry.app import create_app as registry_app
from tests.conftest import Platform, running


@dataclass
class Slice:
    registry: httpx.AsyncClient
    disclosure: httpx.AsyncClient
    admin: dict[str, str]
    app: object
    disclosure_app: object = None


@pytest.fixture(name="s")
async def running_slice(platform: Platform, topics: str) -> AsyncIterator[Slice]:
    registry_settings = await platform.settings("registry", topics)
    reader = issue_token(platform.state_dir, "TANHUI-DISCLOSURE", ["auditor"])
    disclosure_settings = await platform.settings("disclosure", topics, registry_token=reader)
    app = registry_app(registry_settings)  # type: ignore[arg-type]
    # Issuance's methodology catalogue answers without its lifespan (no database, no broker):
    # the portal's methodology pages read it.
    catalogue = issuance_app(await platform.settings("issuance", topics))  # type: ignore[arg-type]
    public = disclosure_app(
        disclosure_settings,  # type: ignore[arg-type]
        issuance_transport=httpx.ASGITransport(app=catalogue),
        registry_transport=httpx.ASGITransport(app=app),
    )
    async with running(app) as registry, running(public) as disclosure:
        for consumer in public.state.runtime.consumers:
            await asyncio.wait_for(consumer.assigned.wait(), 30)
        admin = platform.token("ORG-REGISTRY", "registry_admin")
        yield Slice(registry, disclosure, admin, app, public)


@dataclass
class Platform3:
    """Issuance, registry and disclosure running together on one broker."""

    issuance: httpx.AsyncClient
    registry: httpx.AsyncClient
    disclosure: httpx.AsyncClient
    registry_app: object


NOTICE_SECONDS = 1.5


@pytest.fixture
def notice_seconds() -> float:
    """How long a public notice lasts on `p3` (a module that needs longer overrides it)."""
    return NOTICE_SECONDS


@pytest.fixture(name="p3")
async def running_platform(
    platform: Platform, topics: str, notice_seconds: float
) -> AsyncIterator[Platform3]:
    notice_days = notice_seconds / 86_400
    issuance = issuance_app(
        await platform.settings("issuance", topics, public_notice_days=notice_days)  # type: ignore[arg-type]
    )
    registry = registry_app(await platform.settings("registry", topics))  # type: ignore[arg-type]
    public = disclosure_app(
        await platform.settings("disclosure", topics),  # type: ignore[arg-type]
        issuance_transport=httpx.ASGITransport(app=issuance),
    )
    async with running(issuance) as i, running(registry) as r, running(public) as d:
        for app in (registry, public):
            for consumer in app.state.runtime.consumers:
                await asyncio.wait_for(consumer.assigned.wait(), 30)
        yield Platform3(i, r, d, registry)
