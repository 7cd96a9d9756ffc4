"""GWP-100 sets (IPCC AR4, AR5, AR6), chosen per methodology parameters."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from services.issuance.domain.methodologies.base import FactorTable

GwpSet = Literal["AR4", "AR5", "AR6"]

# AR6: 27.0 is the non-fossil CH4 value (rice methane is non-fossil), AR6 WG1 Table 7.15.
GWP_CH4: dict[str, Decimal] = {"AR4": Decimal(25), "AR5": Decimal(28), "AR6": Decimal("27.0")}
GWP_N2O: dict[str, Decimal] = {"AR4": Decimal(298), "AR5": Decimal(265), "AR6": Decimal(273)}

SOURCES = {
    "AR4": "IPCC AR4 WG1 Table 2.14",
    "AR5": "IPCC AR5 WG1 Table 8.7",
    "AR6": "IPCC AR6 WG1 Table 7.15",
}

CH4_TABLE = FactorTable(
    "GWP_CH4", "GWP-100 of CH4", "IPCC AR4/AR5/AR6 (see sources)", "tCO2e/tCH4", GWP_CH4
)
N2O_TABLE = FactorTable(
    "GWP_N2O", "GWP-100 of N2O", "IPCC AR4/AR5/AR6 (see sources)", "tCO2e/tN2O", GWP_N2O
)
