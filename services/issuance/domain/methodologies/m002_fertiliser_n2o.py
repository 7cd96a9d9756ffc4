"""YRD-AG-M002 v1 农田氮肥减量 — N2O reduction from lower synthetic-N application.

IPCC 2019 Refinement, Vol. 4 Ch. 11: direct N2O (Eq. 11.1 with EF1, flooded-rice EF1FR for
paddies, Table 11.1) and indirect N2O from volatilisation (Eq. 11.9, Frac_GASF × EF4) and
leaching/runoff (Eq. 11.10, Frac_LEACH × EF5) (Table 11.3). N2O = N2O-N × 44/28.
Baseline and project use the same factors; only the synthetic N rate differs.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.issuance.domain.methodologies import gwp
from services.issuance.domain.methodologies.base import (
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

T111 = "IPCC 2019 Vol.4 Table 11.1"
T113 = "IPCC 2019 Vol.4 Table 11.3"
EQ111 = "IPCC 2019 Vol.4 Eq. 11.1"
EQ119 = "IPCC 2019 Vol.4 Eq. 11.9"
EQ1110 = "IPCC 2019 Vol.4 Eq. 11.10"

# Table 11.1: EF1 for synthetic N on upland fields by climate; EF1FR for flooded rice by regime.
EF1_UPLAND = {"wet": Decimal("0.016"), "dry": Decimal("0.005")}
EF1_FLOODED_RICE = {
    "continuously_flooded": Decimal("0.003"),
    "drained": Decimal("0.005"),  # single or multiple drainage
    "aggregated": Decimal("0.004"),
}
# Table 11.3: volatilisation and leaching.
FRAC_GASF = Decimal("0.11")
EF4 = {"wet": Decimal("0.014"), "dry": Decimal("0.005")}
# Paddies are irrigated, so Frac_LEACH-(H) applies to them in any climate.
FRAC_LEACH = {"wet": Decimal("0.24"), "dry": Decimal("0")}
EF5 = Decimal("0.011")
N_RATE_LIMIT = Decimal(1000)  # kg N/ha/season; beyond any agronomic practice


class Stratum(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    area_ha: Decimal = Field(gt=0, le=1_000_000)
    field_type: Literal["flooded_rice", "upland"] = "flooded_rice"
    water_regime: Literal["continuously_flooded", "drained", "aggregated"] = Field(
        default="aggregated", description="flooded rice only: selects EF1FR"
    )
    baseline_n_kg_ha: Decimal = Field(ge=0, le=N_RATE_LIMIT)
    project_n_kg_ha: Decimal = Field(ge=0, le=N_RATE_LIMIT)


class M002Parameters(Parameters):
    climate: Literal["wet", "dry"] = "wet"
    gwp: GwpSet = "AR5"
    uncertainty_deduction_share: Decimal = Field(
        default=Decimal(0), ge=0, lt=1, description="share of the gross reduction deducted"
    )
    strata: tuple[Stratum, ...] = Field(min_length=1)


class FertiliserN2OM002(Methodology[M002Parameters]):
    id = "YRD-AG-M002"
    version = 1
    name_zh = "农田氮肥减量"
    name_en = "Reduced synthetic nitrogen fertiliser"
    description_zh = (
        "减少化学氮肥施用量带来的氧化亚氮减排：按IPCC 2019年精细化指南第4卷第11章计算"
        "直接排放（稻田采用EF1FR）及挥发、淋溶间接排放。"
    )
    description_en = (
        "N2O reduction from lower synthetic N per hectare: direct (EF1; flooded-rice EF1FR for "
        "paddies) and indirect (volatilisation, leaching) N2O per IPCC 2019 Refinement Vol. 4 "
        "Ch. 11, baseline vs project rate."
    )
    parameters_model = M002Parameters
    stratum_model = Stratum
    equations = (
        Equation("11.1", "N2O-N_direct = F_SN × EF1", EQ111),
        Equation("11.9", "N2O-N_ATD = F_SN × Frac_GASF × EF4", EQ119),
        Equation("11.10", "N2O-N_L = F_SN × Frac_LEACH × EF5", EQ1110),
        Equation("N2O", "N2O = N2O-N × 44/28; tCO2e = N2O (t) × GWP_N2O", "IPCC 2019 Vol.4 Ch. 11"),
    )
    factor_tables = (
        FactorTable("EF1", "Direct N2O, synthetic N, upland", T111, "kg N2O-N/kg N", EF1_UPLAND),
        FactorTable("EF1FR", "Direct N2O, flooded rice", T111, "kg N2O-N/kg N", EF1_FLOODED_RICE),
        FactorTable("Frac_GASF", "Volatilised share of synthetic N", T113, "1", {"all": FRAC_GASF}),
        FactorTable("EF4", "N2O from deposition", T113, "kg N2O-N/kg N", EF4),
        FactorTable("Frac_LEACH", "Leached share (wet or irrigated / dry)", T113, "1", FRAC_LEACH),
        FactorTable("EF5", "N2O from leaching", T113, "kg N2O-N/kg N", {"all": EF5}),
        gwp.N2O_TABLE,
    )
    columns = (
        Column("parcel_id", "the parcel's id in the project"),
        Column("area_ha", "fertilised area (ha); default: the parcel's declared area", False),
        Column("field_type", "flooded_rice (default) or upland", False),
        Column("water_regime", "continuously_flooded, drained or aggregated (default)", False),
        Column("baseline_n_kg_ha", "baseline synthetic N (kg N/ha)"),
        Column("project_n_kg_ha", "applied synthetic N in the period (kg N/ha)"),
    )

    def applicability(self, parameters: M002Parameters) -> list[Violation]:
        return [
            Violation(
                f"strata[{i}].project_n_kg_ha",
                f"the project rate {s.project_n_kg_ha} must be below the baseline rate"
                f" {s.baseline_n_kg_ha}",
            )
            for i, s in enumerate(parameters.strata)
            if s.project_n_kg_ha >= s.baseline_n_kg_ha
        ]

    def quantify(self, parameters: M002Parameters) -> Quantification:
        trace = Trace()
        climate = parameters.climate
        ef4 = trace.record("EF4", EF4[climate], "kg N2O-N/kg N", f"EF4[{climate}]", T113)
        frac_gasf = trace.record("Frac_GASF", FRAC_GASF, "1", "Frac_GASF (synthetic)", T113)
        ef5 = trace.record("EF5", EF5, "kg N2O-N/kg N", "EF5", T113)
        gwp_n2o = trace.record(
            "GWP_N2O",
            gwp.GWP_N2O[parameters.gwp],
            "tCO2e/tN2O",
            f"GWP_N2O[{parameters.gwp}]",
            gwp.SOURCES[parameters.gwp],
        )
        # Computed here, inside the 50-digit context, so that 44/28 is not cut at 28 digits.
        n2o_per_n = trace.record(
            "N2O_per_N2O_N", Decimal(44) / Decimal(28), "1", "44/28", "molar masses"
        )
        volatilised = frac_gasf * ef4
        baseline_n2o = project_n2o = ZERO
        for i, s in enumerate(parameters.strata):
            name = f"strata[{i}]"
            ef1 = _ef1(trace, name, s, climate)
            leach = _frac_leach(trace, name, s, climate)
            per_kg_n = trace.record(
                f"{name}.N2O_per_kg_N",
                (ef1 + volatilised + leach * ef5) * n2o_per_n,
                "kg N2O/kg N",
                "(EF1 + Frac_GASF × EF4 + Frac_LEACH × EF5) × 44/28",
                f"{EQ111}, {EQ119}, {EQ1110}",
            )
            baseline_n2o += _n2o(trace, name, "baseline", s.baseline_n_kg_ha * s.area_ha, per_kg_n)
            project_n2o += _n2o(trace, name, "project", s.project_n_kg_ha * s.area_ha, per_kg_n)
        baseline = trace.record(
            "baseline_tco2e", baseline_n2o * gwp_n2o, "tCO2e", "Σ N2O_baseline × GWP_N2O", EQ111
        )
        project = trace.record(
            "project_tco2e", project_n2o * gwp_n2o, "tCO2e", "Σ N2O_project × GWP_N2O", EQ111
        )
        gross = baseline - project
        deductions = {}
        if parameters.uncertainty_deduction_share:
            deductions["uncertainty"] = trace.record(
                "uncertainty_tco2e",
                gross * parameters.uncertainty_deduction_share,
                "tCO2e",
                "(baseline − project) × uncertainty_deduction_share",
                "parameter uncertainty_deduction_share",
            )
        net = trace.record(
            "net_tco2e",
            gross - sum(deductions.values(), ZERO),
            "tCO2e",
            "baseline − project − leakage − Σ deductions",
            self.id,
        )
        return Quantification(baseline, project, ZERO, deductions, net, trace.steps)


def _n2o(trace: Trace, name: str, scenario: str, f_sn: Decimal, per_kg_n: Decimal) -> Decimal:
    """N2O (t) of one scenario of one stratum from its synthetic N (kg)."""
    f_sn = trace.record(
        f"{name}.F_SN_{scenario}", f_sn, "kg N", f"{scenario}_n_kg_ha × A", "parameters"
    )
    return trace.record(
        f"{name}.N2O_{scenario}",
        f_sn * per_kg_n / 1000,
        "t N2O",
        f"F_SN_{scenario} × N2O_per_kg_N / 1000",
        EQ111,
    )


def _ef1(trace: Trace, name: str, s: Stratum, climate: str) -> Decimal:
    if s.field_type == "flooded_rice":
        return trace.record(
            f"{name}.EF1",
            EF1_FLOODED_RICE[s.water_regime],
            "kg N2O-N/kg N",
            f"EF1FR[{s.water_regime}]",
            T111,
        )
    return trace.record(
        f"{name}.EF1", EF1_UPLAND[climate], "kg N2O-N/kg N", f"EF1 synthetic N [{climate}]", T111
    )


def _frac_leach(trace: Trace, name: str, s: Stratum, climate: str) -> Decimal:
    regime = "wet" if s.field_type == "flooded_rice" else climate  # paddies are irrigated
    return trace.record(
        f"{name}.Frac_LEACH", FRAC_LEACH[regime], "1", f"Frac_LEACH[{regime} or irrigated]", T113
    )
