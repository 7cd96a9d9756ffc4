"""Composition root of the matching service (skeleton: health, database, log, relay)."""

from __future__ import annotations

from fastapi import FastAPI

from libs.servicekit.app import ServiceParts, create_service_app
from services.matching.settings import MatchingSettings


def create_app(settings: MatchingSettings | None = None) -> FastAPI:
    parts = ServiceParts(
        title="Tanhui matching 碳汇交易撮合",
        description="Order books and trading modes of the exchange.",
        routers=[],
    )
    return create_service_app(settings or MatchingSettings(), parts)
