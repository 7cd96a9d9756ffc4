"""YRD-AG-M001 v1 稻田甲烷减排 — rice-paddy CH4 reduction by water management.

IPCC 2019 Refinement, Vol. 4 Ch. 5.5: Eq. 5.1 (emissions), 5.2 (daily emission factor), 5.3
(organic amendments), default factors from Tables 5.11–5.14. Baseline and project emissions are
computed per stratum with the same amendments and pre-season regime; net = baseline − project.
No leakage and no deduction (none of this version's parameters asks for one).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.issuance.domain.methodologies import gwp
from services.issuance.domain.methodologies.base import (
    PRECISION,
    ZERO,
    Column,
    Equation,
    FactorTable,
    Methodology,
    Parameters,
    Quantification,
    Trace,
    Violation,
)
from services.issuance.domain.methodologies.gwp import GwpSet

T511 = "IPCC 2019 Vol.4 Table 5.11"
T511A = "IPCC 2019 Vol.4 Table 5.11A"
T512 = "IPCC 2019 Vol.4 Table 5.12"
T513 = "IPCC 2019 Vol.4 Table 5.13"
T514 = "IPCC 2019 Vol.4 Table 5.14"

# Table 5.11: baseline emission factor for continuously flooded fields without organic
# amendments (kg CH4/ha/day); Table 5.11A: cultivation period (days).
EF_C = {
    "world": Decimal("1.19"),
    "africa": Decimal("1.19"),
    "east_asia": Decimal("1.32"),
    "south_east_asia": Decimal("1.22"),
    "south_asia": Decimal("0.85"),
    "europe": Decimal("1.56"),
    "north_america": Decimal("0.65"),
    "south_america": Decimal("1.27"),
}
CULTIVATION_DAYS = {
    "world": 113,
    "africa": 113,
    "east_asia": 112,
    "south_east_asia": 102,
    "south_asia": 112,
    "europe": 123,
    "north_america": 139,
    "south_america": 124,
}
# Table 5.12: scaling factor for the water regime during cultivation.
SF_W = {
    "continuously_flooded": Decimal("1.00"),
    "single_drainage": Decimal("0.71"),
    "multiple_drainage": Decimal("0.55"),  # includes alternate wetting and drying
    "rainfed_regular": Decimal("0.54"),
    "rainfed_drought_prone": Decimal("0.16"),
    "deep_water": Decimal("0.06"),
    "upland": Decimal("0"),
}
# Table 5.13: scaling factor for the water regime before cultivation.
SF_P = {
    "non_flooded_lt_180": Decimal("1.00"),
    "non_flooded_gt_180": Decimal("0.89"),
    "flooded_gt_30": Decimal("2.41"),
    "non_flooded_gt_365": Decimal("0.59"),
}
# Table 5.14: conversion factor for organic amendments.
CFOA = {
    "straw_short": Decimal("1.00"),  # incorporated < 30 days before cultivation
    "straw_long": Decimal("0.19"),  # incorporated > 30 days before cultivation
    "compost": Decimal("0.17"),
    "farmyard_manure": Decimal("0.21"),
    "green_manure": Decimal("0.45"),
}
SF_O_EXPONENT = Decimal("0.59")  # Eq. 5.3

Region = Literal[
    "world",
    "africa",
    "east_asia",
    "south_east_asia",
    "south_asia",
    "europe",
    "north_america",
    "south_america",
]
WaterRegime = Literal[
    "continuously_flooded",
    "single_drainage",
    "multiple_drainage",
    "rainfed_regular",
    "rainfed_drought_prone",
    "deep_water",
    "upland",
]
PreseasonRegime = Literal[
    "non_flooded_lt_180", "non_flooded_gt_180", "flooded_gt_30", "non_flooded_gt_365"
]
AmendmentType = Literal["straw_short", "straw_long", "compost", "farmyard_manure", "green_manure"]

AREA_LIMIT = Decimal(1_000_000)  # ha; larger than any county of the zone


class OrganicAmendment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: AmendmentType
    rate_t_ha: Decimal = Field(ge=0, le=100, description="t/ha: dry weight for straw, else fresh")


class Stratum(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    area_ha: Decimal = Field(gt=0, le=AREA_LIMIT)
    cultivation_days: int | None = Field(
        default=None, gt=0, le=366, description="default: Table 5.11A for the region"
    )
    baseline_water_regime: WaterRegime
    project_water_regime: WaterRegime
    preseason_water_regime: PreseasonRegime
    organic_amendments: tuple[OrganicAmendment, ...] = ()


class M001Parameters(Parameters):
    region: Region = "east_asia"
    gwp: GwpSet = "AR5"
    baseline_ef_kg_ch4_ha_day: Decimal | None = Field(
        default=None, gt=0, le=100, description="Tier 2: a measured baseline factor replaces EF_c"
    )
    strata: tuple[Stratum, ...] = Field(min_length=1)


EQ51 = "IPCC 2019 Vol.4 Eq. 5.1"
EQ52 = "IPCC 2019 Vol.4 Eq. 5.2"
EQ53 = "IPCC 2019 Vol.4 Eq. 5.3"


class RiceMethaneM001(Methodology[M001Parameters]):
    id = "YRD-AG-M001"
    version = 1
    name_zh = "稻田甲烷减排（水分管理）"
    name_en = "Rice-paddy CH4 reduction by water management"
    description_zh = (
        "以间歇灌溉、烤田等水分管理替代持续淹灌，按IPCC 2019年精细化指南第4卷5.5节"
        "（式5.1–5.3，表5.11–5.14）计算基准线与项目甲烷排放，减排量为二者之差。"
    )
    description_en = (
        "Intermittent irrigation or mid-season drainage instead of continuous flooding. Baseline "
        "and project CH4 per IPCC 2019 Refinement Vol. 4 Ch. 5.5 (Eq. 5.1–5.3, Tables "
        "5.11–5.14), Tier 1 defaults or a measured baseline factor (Tier 2); net = baseline − "
        "project."
    )
    parameters_model = M001Parameters
    stratum_model = Stratum
    equations = (
        Equation("5.1", "CH4 (t) = EF × t × A / 1000", EQ51),
        Equation("5.2", "EF = EF_c × SF_w × SF_p × SF_o", EQ52),
        Equation("5.3", "SF_o = (1 + Σ ROA_i × CFOA_i)^0.59", EQ53),
    )
    factor_tables = (
        FactorTable("EF_c", "Baseline emission factor", T511, "kg CH4/ha/day", EF_C),
        FactorTable(
            "cultivation_days",
            "Cultivation period",
            T511A,
            "days",
            {k: Decimal(v) for k, v in CULTIVATION_DAYS.items()},
        ),
        FactorTable("SF_w", "Water regime during cultivation", T512, "1", SF_W),
        FactorTable("SF_p", "Water regime before cultivation", T513, "1", SF_P),
        FactorTable("CFOA", "Organic amendment conversion factor", T514, "1", CFOA),
        gwp.CH4_TABLE,
    )
    columns = (
        Column("parcel_id", "the parcel's id in the project"),
        Column("area_ha", "cultivated area (ha); default: the parcel's declared area", False),
        Column("cultivation_days", "days; default: Table 5.11A for the region", False),
        Column("baseline_water_regime", "Table 5.12 key, e.g. continuously_flooded"),
        Column("project_water_regime", "Table 5.12 key, e.g. multiple_drainage"),
        Column("preseason_water_regime", "Table 5.13 key, e.g. non_flooded_lt_180"),
        Column(
            "organic_amendments",
            "type:rate_t_ha pairs separated by ';', e.g. straw_short:5;compost:2",
            False,
        ),
    )

    def applicability(self, parameters: M001Parameters) -> list[Violation]:
        return [
            Violation(
                f"strata[{i}].project_water_regime",
                f"the project regime {s.project_water_regime} (SF_w {SF_W[s.project_water_regime]})"
                f" must have a lower SF_w than the baseline regime {s.baseline_water_regime}"
                f" (SF_w {SF_W[s.baseline_water_regime]})",
            )
            for i, s in enumerate(parameters.strata)
            if SF_W[s.project_water_regime] >= SF_W[s.baseline_water_regime]
        ]

    def quantify(self, parameters: M001Parameters) -> Quantification:
        trace = Trace()
        region = parameters.region
        if parameters.baseline_ef_kg_ch4_ha_day is not None:
            ef_c = trace.record(
                "EF_c",
                parameters.baseline_ef_kg_ch4_ha_day,
                "kg CH4/ha/day",
                "measured baseline daily factor (Tier 2) replaces EF_c",
                "parameter baseline_ef_kg_ch4_ha_day",
            )
        else:
            ef_c = trace.record("EF_c", EF_C[region], "kg CH4/ha/day", f"EF_c[{region}]", T511)
        baseline_ch4 = project_ch4 = ZERO
        for i, stratum in enumerate(parameters.strata):
            b, p = _stratum(trace, f"strata[{i}]", stratum, ef_c, region)
            baseline_ch4 += b
            project_ch4 += p
        gwp_ch4 = trace.record(
            "GWP_CH4",
            gwp.GWP_CH4[parameters.gwp],
            "tCO2e/tCH4",
            f"GWP_CH4[{parameters.gwp}]",
            gwp.SOURCES[parameters.gwp],
        )
        trace.record("CH4_baseline", baseline_ch4, "t CH4", "Σ strata CH4_baseline", EQ51)
        trace.record("CH4_project", project_ch4, "t CH4", "Σ strata CH4_project", EQ51)
        baseline = trace.record(
            "baseline_tco2e", baseline_ch4 * gwp_ch4, "tCO2e", "CH4_baseline × GWP_CH4", EQ51
        )
        project = trace.record(
            "project_tco2e", project_ch4 * gwp_ch4, "tCO2e", "CH4_project × GWP_CH4", EQ51
        )
        net = trace.record(
            "net_tco2e", baseline - project, "tCO2e", "baseline − project − leakage", self.id
        )
        return Quantification(baseline, project, ZERO, {}, net, trace.steps)

    def stratum_from_row(self, row: Mapping[str, str]) -> dict[str, Any]:
        stratum = super().stratum_from_row(row)
        text = stratum.pop("organic_amendments", None)
        if text is not None:
            stratum["organic_amendments"] = [_amendment(pair) for pair in text.split(";") if pair]
        return stratum


@functools.lru_cache(maxsize=65536)
def _sf_o(bracket: Decimal) -> Decimal:
    """Eq. 5.3's power, in the 50-digit context whatever the caller's. A 50-digit non-integer
    power costs ~0.1 ms; monitoring data repeats its amendment rates, so one power per distinct
    bracket keeps a 10,000-parcel report well under a second."""
    return Decimal(1) if bracket == 1 else PRECISION.power(bracket, SF_O_EXPONENT)


def _amendment(pair: str) -> dict[str, str]:
    kind, _, rate = pair.partition(":")
    return {"type": kind.strip(), "rate_t_ha": rate.strip()}


def _stratum(
    trace: Trace, name: str, stratum: Stratum, ef_c: Decimal, region: str
) -> tuple[Decimal, Decimal]:
    """Baseline and project CH4 (t) of one stratum, every step in the trace."""
    days = stratum.cultivation_days
    if days is None:
        t = trace.record(f"{name}.t", Decimal(CULTIVATION_DAYS[region]), "days", region, T511A)
    else:
        t = trace.record(f"{name}.t", Decimal(days), "days", "cultivation_days", "parameter")
    area = stratum.area_ha
    sf_wb = trace.record(
        f"{name}.SF_w_baseline",
        SF_W[stratum.baseline_water_regime],
        "1",
        f"SF_w[{stratum.baseline_water_regime}]",
        T512,
    )
    sf_wp = trace.record(
        f"{name}.SF_w_project",
        SF_W[stratum.project_water_regime],
        "1",
        f"SF_w[{stratum.project_water_regime}]",
        T512,
    )
    sf_p = trace.record(
        f"{name}.SF_p",
        SF_P[stratum.preseason_water_regime],
        "1",
        f"SF_p[{stratum.preseason_water_regime}]",
        T513,
    )
    bracket = Decimal(1) + sum(
        (a.rate_t_ha * CFOA[a.type] for a in stratum.organic_amendments), ZERO
    )
    sf_o = trace.record(f"{name}.SF_o", _sf_o(bracket), "1", "(1 + Σ ROA_i × CFOA_i)^0.59", EQ53)
    common = ef_c * sf_p * sf_o
    ef_b = trace.record(
        f"{name}.EF_baseline",
        common * sf_wb,
        "kg CH4/ha/day",
        "EF_c × SF_w_baseline × SF_p × SF_o",
        EQ52,
    )
    ef_p = trace.record(
        f"{name}.EF_project",
        common * sf_wp,
        "kg CH4/ha/day",
        "EF_c × SF_w_project × SF_p × SF_o",
        EQ52,
    )
    b = trace.record(
        f"{name}.CH4_baseline", ef_b * t * area / 1000, "t CH4", "EF_baseline × t × A / 1000", EQ51
    )
    p = trace.record(
        f"{name}.CH4_project", ef_p * t * area / 1000, "t CH4", "EF_project × t × A / 1000", EQ51
    )
    return b, p
