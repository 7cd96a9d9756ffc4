"""The methodology catalog: every registered plugin, by id and version."""

from __future__ import annotations

from typing import Any

from services.issuance.domain.errors import UnknownMethodology
from services.issuance.domain.methodologies.base import Methodology
from services.issuance.domain.methodologies.m001_rice_ch4 import RiceMethaneM001
from services.issuance.domain.methodologies.m002_fertiliser_n2o import FertiliserN2OM002
from services.issuance.domain.methodologies.m003_soil_carbon import SoilCarbonM003

Plugin = Methodology[Any]

CATALOG: dict[tuple[str, int], Plugin] = {
    (m.id, m.version): m for m in (RiceMethaneM001(), FertiliserN2OM002(), SoilCarbonM003())
}


def versions(methodology_id: str) -> list[Plugin]:
    return sorted((m for m in CATALOG.values() if m.id == methodology_id), key=lambda m: m.version)


def get(methodology_id: str, version: int | None = None) -> Plugin:
    """A version, or the latest when none is given; 404 problem when unknown."""
    found = versions(methodology_id)
    if version is not None:
        found = [m for m in found if m.version == version]
    if not found:
        raise UnknownMethodology(f"no methodology {methodology_id} version {version or 'any'}")
    return found[-1]
