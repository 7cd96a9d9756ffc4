"""Composition root of the issuance service."""

from __future__ import annotations

from fastapi import FastAPI

from libs.servicekit.app import ServiceParts, create_service_app
from services.issuance.api import documents, methodologies, parcels, projects, reports
from services.issuance.ratelimit import CommentLimiter
from services.issuance.settings import IssuanceSettings


def create_app(settings: IssuanceSettings | None = None) -> FastAPI:
    settings = settings or IssuanceSettings()
    parts = ServiceParts(
        title="Tanhui issuance 碳汇签发",
        description="Methodologies, projects, parcels, monitoring, verification and issuance "
        "approval (docs/domain.md).",
        routers=[
            methodologies.router,
            projects.router,
            parcels.router,
            documents.router,
            reports.router,
        ],
        # Anonymous: 10,000 strata fit in well under 4 MiB; monitoring reports may be larger.
        body_limits=[(r"/v1/methodologies/[^/]+/quantify", 4 * 1024 * 1024)],
    )
    app = create_service_app(settings, parts)
    app.state.comment_limiter = CommentLimiter(settings.comment_rate_per_minute)
    return app
