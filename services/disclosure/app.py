"""Composition root of the disclosure service."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from libs.servicekit.app import ServiceParts, create_service_app
from services.disclosure import consumers, witness
from services.disclosure.api import policies, projects, public, supervision, valuations
from services.disclosure.api import witness as witnessed
from services.disclosure.methodologies import Methodologies
from services.disclosure.portal import pages
from services.disclosure.reconciliation import RegistrySupply
from services.disclosure.settings import DisclosureSettings


def create_app(
    settings: DisclosureSettings | None = None,
    issuance_transport: httpx.AsyncBaseTransport | None = None,
    registry_transport: httpx.AsyncBaseTransport | None = None,
    matching_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """`*_transport`: tests run the other services in process."""
    settings = settings or DisclosureSettings()
    issuance = httpx.AsyncClient(
        base_url=settings.issuance_url, transport=issuance_transport, timeout=5.0
    )
    registry = httpx.AsyncClient(
        base_url=settings.registry_url, transport=registry_transport, timeout=5.0
    )
    matching = httpx.AsyncClient(
        base_url=settings.matching_url, transport=matching_transport, timeout=5.0
    )
    # Supervision's audit trail, the witness and the transparency page read the others' logs.
    ledgers = {"registry": registry, "issuance": issuance, "matching": matching}
    parts = ServiceParts(
        title="Tanhui disclosure 碳汇信息披露",
        description="Public read models, the public portal (zh-CN at /, English at /en/) and "
        "policy publication (services/disclosure/README.md).",
        routers=[
            public.router,
            projects.router,
            policies.router,
            supervision.router,
            valuations.router,
            witnessed.router,
            pages.router,
        ],
        consumers=consumers.consumers,
        tasks=lambda runtime: [
            *(closed_at_stop(c) for c in (issuance, registry, matching)),
            *watching(runtime.pool, settings.witness_seconds, ledgers),
        ],
    )
    app = create_service_app(settings, parts)
    app.state.issuance = issuance
    app.state.methodologies = Methodologies(issuance)
    app.state.registry = registry  # valuations ask it with the caller's own token
    app.state.ledgers = ledgers
    app.state.registry_supply = RegistrySupply(registry, settings.registry_token)
    return app


def watching(
    pool: asyncpg.Pool, seconds: float, ledgers: dict[str, httpx.AsyncClient]
) -> list[Coroutine[Any, Any, None]]:
    return [witness.run_forever(pool, ledgers, seconds)] if seconds > 0 else []


async def closed_at_stop(client: httpx.AsyncClient) -> None:
    """A background task: a client to another service lives until the service stops."""
    try:
        await asyncio.Event().wait()
    finally:
        await client.aclose()
