"""Event payloads of every service: the contract between producers and consumers."""

from __future__ import annotations

import importlib

from libs.events.catalog import EventCatalog


def catalog_of(service: str) -> EventCatalog:
    """The catalog of `service`'s events (`libs/events/contract/<service>.py`)."""
    module = importlib.import_module(f"libs.events.contract.{service}")
    catalog: EventCatalog = module.catalog
    return catalog
