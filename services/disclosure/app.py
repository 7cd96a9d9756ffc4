"""Composition root of the disclosure service."""

from __future__ import annotations

from fastapi import FastAPI

from libs.servicekit.app import ServiceParts, create_service_app
from services.disclosure import consumers
from services.disclosure.api import policies, projects, public
from services.disclosure.portal import pages
from services.disclosure.settings import DisclosureSettings


def create_app(settings: DisclosureSettings | None = None) -> FastAPI:
    parts = ServiceParts(
        title="Tanhui disclosure 碳汇信息披露",
        description="Public read models of issuances, retirements and the market.",
        routers=[public.router, projects.router, policies.router, pages.router],
        consumers=consumers.consumers,
    )
    return create_service_app(settings or DisclosureSettings(), parts)
