"""Composition root of the issuance service (skeleton: health, database, log, relay)."""

from __future__ import annotations

from fastapi import FastAPI

from libs.servicekit.app import ServiceParts, create_service_app
from libs.servicekit.settings import IssuanceSettings


def create_app(settings: IssuanceSettings | None = None) -> FastAPI:
    parts = ServiceParts(
        title="Tanhui issuance 碳汇签发",
        description="Methodologies, projects, monitoring, verification and issuance approval.",
        routers=[],
    )
    return create_service_app(settings or IssuanceSettings(), parts)
