"""Composition root of the matching service."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from httpx_aiohttp import HttpxAiohttpClient

from libs.servicekit.app import ServiceParts, create_service_app
from services.matching import dvp
from services.matching.api import (
    auctions,
    block_quotes,
    instruments,
    listings,
    market_data,
    members,
    orders,
    trades,
)
from services.matching.market import Market
from services.matching.registry_client import Registry
from services.matching.settings import MatchingSettings
from services.matching.settlement import SettlementSystem


def create_app(
    settings: MatchingSettings | None = None,
    registry_transport: httpx.AsyncBaseTransport | None = None,
    settlement_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """`*_transport`: tests run the registry and the settlement simulator in process."""
    settings = settings or MatchingSettings()
    parts = ServiceParts(
        title="Tanhui matching 碳汇交易撮合",
        description="Instruments, members, the listing agreement (挂牌协议), the continuous book, "
        "the block agreement (大宗协议), the one-way auction (单向竞价), trades with delivery "
        "versus payment, and market data (docs/domain.md, services/matching/README.md).",
        routers=[
            instruments.router,
            members.router,
            listings.router,
            orders.router,
            block_quotes.router,
            auctions.router,
            trades.router,
            market_data.router,
        ],
        tasks=dvp.tasks,
    )
    app = create_service_app(settings, parts)
    timeout = httpx.Timeout(settings.upstream_timeout_seconds)
    # Every connection kept alive: with the default (20 of 100) the settlement process's
    # concurrent calls opened and closed connections all the time.
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    # httpx's API on aiohttp's transport (tests pass ASGI transports instead).
    registry = HttpxAiohttpClient(
        base_url=settings.registry_url,
        transport=registry_transport,
        timeout=timeout,
        limits=limits,
    )
    settlement = HttpxAiohttpClient(
        base_url=settings.settlement_url,
        transport=settlement_transport,
        timeout=timeout,
        limits=limits,
    )
    market = Market(
        Registry(registry, settings.market_token, settings.market_org), SettlementSystem(settlement)
    )
    app.state.market = market
    app.state.runtime.extras["market"] = market
    return app
