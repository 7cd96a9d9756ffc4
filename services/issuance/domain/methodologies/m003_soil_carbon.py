"""YRD-AG-M003 v1 农田土壤固碳 — soil organic carbon gain on cropland remaining cropland.

IPCC 2019 Refinement, Vol. 4 Ch. 2 (Eq. 2.25 stock-change method) with the Ch. 5 cropland
factors: SOC = SOC_ref × F_LU × F_MG × F_I; the annual change is (SOC_project − SOC_baseline)/D
with D = 20 years, over the monitoring period's years; CO2 = C × 44/12.

Reported as emissions: baseline 0 (the baseline stock is taken as the equilibrium) and project =
−removals, so net = baseline − project − leakage − deductions = removals − deductions.
Deductions: `uncertainty` (a share of the gross removal) and then `buffer` (default 20% of the
rest) — the buffer share goes to the program's buffer account at issuance (non-permanence).

Confidence in the factors is medium (one independent reproduction of the tables; the primary PDF
was not consulted), so a project may supply a measured `soc_ref_t_c_ha` per stratum.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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

SRC_REF = "IPCC 2019 Vol.4 Table 2.3 (warm temperate moist)"
SRC_F = "IPCC 2019 Vol.4 Table 5.5 (warm temperate moist)"
EQ225 = "IPCC 2019 Vol.4 Eq. 2.25"
CONFIDENCE = "medium (one independent reproduction)"

SOC_REF = {
    "hac": Decimal(64),
    "lac": Decimal(55),
    "sandy": Decimal(36),
    "spodic": Decimal(143),
    "volcanic": Decimal(138),
    "wetland": Decimal(135),
}
F_LU = {"long_term_cultivated": Decimal("0.69"), "paddy_rice": Decimal("1.35")}
F_MG = {"full": Decimal("1.00"), "reduced": Decimal("1.05"), "no_till": Decimal("1.10")}
F_I = {
    "low": Decimal("0.92"),
    "medium": Decimal("1.00"),
    "high_without_manure": Decimal("1.11"),
    "high_with_manure": Decimal("1.44"),
}
D_YEARS = Decimal(20)  # Eq. 2.25 default inventory time horizon

Tillage = Literal["full", "reduced", "no_till"]
Input = Literal["low", "medium", "high_without_manure", "high_with_manure"]


class Stratum(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    area_ha: Decimal = Field(gt=0, le=1_000_000)
    soil_type: Literal["hac", "lac", "sandy", "spodic", "volcanic", "wetland"]
    soc_ref_t_c_ha: Decimal | None = Field(
        default=None, gt=0, le=1000, description="measured reference stock replaces SOC_ref"
    )
    land_use: Literal["long_term_cultivated", "paddy_rice"] = "paddy_rice"
    baseline_tillage: Tillage
    project_tillage: Tillage
    baseline_input: Input
    project_input: Input


class M003Parameters(Parameters):
    years: Decimal = Field(default=Decimal(1), gt=0, le=20, description="years in the period")
    buffer_share: Decimal = Field(default=Decimal("0.20"), ge=0, lt=1)
    uncertainty_deduction_share: Decimal = Field(default=Decimal(0), ge=0, lt=1)
    strata: tuple[Stratum, ...] = Field(min_length=1)


class SoilCarbonM003(Methodology[M003Parameters]):
    id = "YRD-AG-M003"
    version = 1
    name_zh = "农田土壤固碳"
    name_en = "Soil organic carbon on cropland"
    description_zh = (
        "秸秆还田、少耕免耕及有机投入提高土壤有机碳：按IPCC库存变化法（SOCref×FLU×FMG×FI，"
        "20年）计算，扣除不确定性后按缓冲比例（默认20%）计入缓冲账户。因子置信度为中等，"
        "项目可提供实测SOCref。"
    )
    description_en = (
        "Soil organic carbon gain from straw return, reduced or no tillage and organic inputs: "
        "IPCC stock-change method (SOC_ref × F_LU × F_MG × F_I, 20-year horizon); an "
        "uncertainty deduction, then a buffer share (default 20%) to the program's buffer "
        "account. Factor confidence is medium; a project may supply a measured SOC_ref."
    )
    parameters_model = M003Parameters
    stratum_model = Stratum
    equations = (
        Equation("SOC", "SOC = SOC_ref × F_LU × F_MG × F_I", EQ225),
        Equation("2.25", "ΔC = (SOC_project − SOC_baseline) / D × A × years, D = 20", EQ225),
        Equation("CO2", "CO2 = ΔC × 44/12", "molar masses"),
        Equation(
            "net",
            "net = ΔCO2 − uncertainty − buffer; buffer = (ΔCO2 − uncertainty) × buffer_share",
            "YRD-AG-M003",
        ),
    )
    factor_tables = (
        FactorTable(
            "SOC_ref", "Reference SOC stock 0–30 cm", SRC_REF, "t C/ha", SOC_REF, CONFIDENCE
        ),
        FactorTable("F_LU", "Land-use factor", SRC_F, "1", F_LU, CONFIDENCE),
        FactorTable("F_MG", "Management (tillage) factor", SRC_F, "1", F_MG, CONFIDENCE),
        FactorTable("F_I", "Input factor", SRC_F, "1", F_I, CONFIDENCE),
    )
    columns = (
        Column("parcel_id", "the parcel's id in the project"),
        Column("area_ha", "area (ha); default: the parcel's declared area", False),
        Column("soil_type", "hac, lac, sandy, spodic, volcanic or wetland"),
        Column("soc_ref_t_c_ha", "measured reference stock (t C/ha)", False),
        Column("land_use", "paddy_rice (default) or long_term_cultivated", False),
        Column("baseline_tillage", "full, reduced or no_till"),
        Column("project_tillage", "full, reduced or no_till"),
        Column("baseline_input", "low, medium, high_without_manure or high_with_manure"),
        Column("project_input", "low, medium, high_without_manure or high_with_manure"),
    )

    def applicability(self, parameters: M003Parameters) -> list[Violation]:
        violations = []
        for i, s in enumerate(parameters.strata):
            before = F_MG[s.baseline_tillage] * F_I[s.baseline_input]
            after = F_MG[s.project_tillage] * F_I[s.project_input]
            if after <= before:
                violations.append(
                    Violation(
                        f"strata[{i}].project_tillage",
                        f"project practices (F_MG × F_I = {after}) must raise the stock factor"
                        f" above the baseline ({before})",
                    )
                )
        return violations

    def quantify(self, parameters: M003Parameters) -> Quantification:
        trace = Trace()
        d = trace.record("D", D_YEARS, "years", "default time horizon", EQ225)
        years = trace.record("years", parameters.years, "years", "years", "parameter")
        c_to_co2 = trace.record(
            "CO2_per_C", Decimal(44) / Decimal(12), "1", "44/12", "molar masses"
        )
        removal_c = ZERO
        for i, s in enumerate(parameters.strata):
            removal_c += _stratum(trace, f"strata[{i}]", s, d, years)
        gross = trace.record("removals_tco2e", removal_c * c_to_co2, "tCO2e", "Σ ΔC × 44/12", EQ225)
        project = trace.record("project_tco2e", -gross, "tCO2e", "−removals", self.id)
        uncertainty = trace.record(
            "uncertainty_tco2e",
            gross * parameters.uncertainty_deduction_share,
            "tCO2e",
            "removals × uncertainty_deduction_share",
            "parameter uncertainty_deduction_share",
        )
        buffer = trace.record(
            "buffer_tco2e",
            (gross - uncertainty) * parameters.buffer_share,
            "tCO2e",
            "(removals − uncertainty) × buffer_share",
            "parameter buffer_share (non-permanence buffer)",
        )
        net = trace.record(
            "net_tco2e",
            gross - uncertainty - buffer,
            "tCO2e",
            "baseline − project − leakage − uncertainty − buffer",
            self.id,
        )
        deductions = {"uncertainty": uncertainty, "buffer": buffer}
        return Quantification(ZERO, project, ZERO, deductions, net, trace.steps)


def _stratum(trace: Trace, name: str, s: Stratum, d: Decimal, years: Decimal) -> Decimal:
    """Carbon gained (t C) by one stratum over the period."""
    if s.soc_ref_t_c_ha is not None:
        ref = trace.record(f"{name}.SOC_ref", s.soc_ref_t_c_ha, "t C/ha", "measured", "parameter")
    else:
        ref = trace.record(
            f"{name}.SOC_ref", SOC_REF[s.soil_type], "t C/ha", f"SOC_ref[{s.soil_type}]", SRC_REF
        )
    f_lu = trace.record(f"{name}.F_LU", F_LU[s.land_use], "1", f"F_LU[{s.land_use}]", SRC_F)
    stocks = []
    for scenario, tillage, inputs in (
        ("baseline", s.baseline_tillage, s.baseline_input),
        ("project", s.project_tillage, s.project_input),
    ):
        f_mg = trace.record(
            f"{name}.F_MG_{scenario}", F_MG[tillage], "1", f"F_MG[{tillage}]", SRC_F
        )
        f_i = trace.record(f"{name}.F_I_{scenario}", F_I[inputs], "1", f"F_I[{inputs}]", SRC_F)
        stocks.append(
            trace.record(
                f"{name}.SOC_{scenario}",
                ref * f_lu * f_mg * f_i,
                "t C/ha",
                "SOC_ref × F_LU × F_MG × F_I",
                EQ225,
            )
        )
    return trace.record(
        f"{name}.dC",
        (stocks[1] - stocks[0]) / d * s.area_ha * years,
        "t C",
        "(SOC_project − SOC_baseline) / D × A × years",
        EQ225,
    )
