"""Composition root of the registry service."""

from __future__ import annotations

from fastapi import FastAPI

from libs.servicekit.app import ServiceParts, create_service_app
from services.registry import consumers, sweeper
from services.registry.api import (
    accounts,
    admin,
    bulk,
    holds,
    issuances,
    labels,
    ledger,
    movements,
    pledges,
    points,
    queries,
)
from services.registry.settings import RegistrySettings


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    parts = ServiceParts(
        title="Tanhui registry 碳汇登记簿",
        description="The ledger of serial-numbered agricultural carbon-sink credits.",
        routers=[
            accounts.router,
            issuances.router,
            movements.router,
            holds.router,
            queries.router,
            admin.router,
            bulk.router,
            ledger.router,
            points.router,
            labels.router,
            pledges.router,
        ],
        tasks=sweeper.tasks,
        consumers=consumers.consumers,
        collector_paused_paths=frozenset({"/v1/bulk"}),
    )
    app = create_service_app(settings or RegistrySettings(), parts)
    bulk.document_body(app)
    return app
