"""Worked examples of YRD-AG-M001/M002/M003, computed by hand here, plus properties."""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.issuance.domain.errors import InvalidParameters, NotApplicable
from services.issuance.domain.methodologies import CATALOG, get
from services.issuance.domain.methodologies.base import PRECISION
from services.issuance.domain.methodologies.m001_rice_ch4 import SF_W

D = Decimal


def m001_stratum(**overrides: Any) -> dict[str, Any]:
    stratum: dict[str, Any] = {
        "area_ha": "10",
        "baseline_water_regime": "continuously_flooded",
        "project_water_regime": "multiple_drainage",
        "preseason_water_regime": "non_flooded_lt_180",
    }
    stratum.update(overrides)
    return stratum


def test_m001_tier1_without_amendments() -> None:
    result = get("YRD-AG-M001").evaluate({"strata": [m001_stratum()]}).as_dict()
    # EF_c(east_asia) 1.32 kg/ha/day (Table 5.11), t = 112 days (Table 5.11A), A = 10 ha.
    # Baseline: 1.32 × 1.00 × 1.00 × 1 × 112 × 10 / 1000 = 1.47840 t CH4 × 28 (AR5) = 41.3952
    # Project:  1.32 × 0.55 × 1.00 × 1 × 112 × 10 / 1000 = 0.81312 t CH4 × 28     = 22.76736
    # Net: 41.3952 − 22.76736 = 18.62784 → "18.628"
    assert result["baseline_tco2e"] == "41.395"
    assert result["project_tco2e"] == "22.767"
    assert result["leakage_tco2e"] == "0.000"
    assert result["deductions"] == {}
    assert result["net_tco2e"] == "18.628"
    steps = {s["name"]: s for s in result["trace"]}
    assert D(steps["strata[0].EF_baseline"]["value"]) == D("1.32")
    assert steps["strata[0].EF_baseline"]["source"] == "IPCC 2019 Vol.4 Eq. 5.2"
    assert D(steps["net_tco2e"]["value"]) == D("18.62784")


def test_m001_organic_amendments_scale_the_whole_bracket() -> None:
    amended = m001_stratum(
        organic_amendments=[
            {"type": "straw_short", "rate_t_ha": "4"},
            {"type": "compost", "rate_t_ha": "6"},
        ]
    )
    result = get("YRD-AG-M001").evaluate({"strata": [amended]}).as_dict()
    # SF_o = (1 + 4 × 1.00 + 6 × 0.17)^0.59 = 6.02^0.59 (Eq. 5.3, exponent on the bracket).
    with decimal.localcontext(decimal.Context(prec=50)):
        sf_o = D("6.02") ** D("0.59")
        net = D("18.62784") * sf_o
    steps = {s["name"]: s for s in result["trace"]}
    assert D(steps["strata[0].SF_o"]["value"]) == sf_o
    assert str(sf_o)[:6] == "2.8837"
    assert result["net_tco2e"] == str(net.quantize(D("0.001")))
    # The factors file's check value: (1 + 5 × 1.00)^0.59 = 2.878.
    single = get("YRD-AG-M001").evaluate(
        {"strata": [m001_stratum(organic_amendments=[{"type": "straw_short", "rate_t_ha": 5}])]}
    )
    sf_o_5 = next(s.value for s in single.trace if s.name == "strata[0].SF_o")
    assert sf_o_5.quantize(D("0.001")) == D("2.878")


def test_m001_tier2_region_and_gwp() -> None:
    params = {
        "region": "south_asia",
        "gwp": "AR6",
        "baseline_ef_kg_ch4_ha_day": "2.5",
        "strata": [
            m001_stratum(
                area_ha="3.5",
                cultivation_days=100,
                baseline_water_regime="single_drainage",
                preseason_water_regime="flooded_gt_30",
            )
        ],
    }
    result = get("YRD-AG-M001").evaluate(params).as_dict()
    # EF_c = 2.5 (measured) × SF_p 2.41; baseline SF_w 0.71, project 0.55, t = 100, A = 3.5.
    # Baseline: 2.5 × 0.71 × 2.41 × 100 × 3.5 / 1000 = 1.4972125 t CH4 × 27.0 = 40.4247375
    # Project:  2.5 × 0.55 × 2.41 × 100 × 3.5 / 1000 = 1.1598125 t CH4 × 27.0 = 31.3149375
    assert result["baseline_tco2e"] == "40.425"
    assert result["project_tco2e"] == "31.315"
    assert result["net_tco2e"] == "9.110"  # 9.1098


def test_m001_applicability_names_the_stratum() -> None:
    bad = m001_stratum(project_water_regime="continuously_flooded")
    with pytest.raises(NotApplicable) as caught:
        get("YRD-AG-M001").evaluate({"strata": [m001_stratum(), bad]})
    assert caught.value.extensions["errors"][0]["parameter"] == "strata[1].project_water_regime"


def test_invalid_parameters_are_named() -> None:
    with pytest.raises(InvalidParameters) as caught:
        get("YRD-AG-M001").evaluate(
            {"gwp": "AR9", "strata": [m001_stratum(area_ha="0"), m001_stratum(colour="red")]}
        )
    names = {e["parameter"] for e in caught.value.extensions["errors"]}
    assert {"gwp", "strata[0].area_ha", "strata[1].colour"} <= names


def test_m002_paddy_and_upland() -> None:
    params = {
        "strata": [
            {"area_ha": "100", "baseline_n_kg_ha": "250", "project_n_kg_ha": "200"},
            {
                "area_ha": "20",
                "field_type": "upland",
                "baseline_n_kg_ha": "300",
                "project_n_kg_ha": "240",
            },
        ],
        "uncertainty_deduction_share": "0.1",
    }
    result = get("YRD-AG-M002").evaluate(params).as_dict()
    # Paddy (EF1FR aggregated 0.004; Frac_GASF 0.11 × EF4 wet 0.014; Frac_LEACH 0.24 × EF5 0.011):
    #   per kg N: (0.004 + 0.00154 + 0.00264) × 44/28 = 0.00818 × 44/28 kg N2O
    #   baseline N 25,000 kg, project 20,000 kg
    # Upland (EF1 wet synthetic 0.016): (0.016 + 0.00154 + 0.00264) = 0.02018 × 44/28
    #   baseline N 6,000 kg, project 4,800 kg
    # Baseline t N2O = (25000 × 0.00818 + 6000 × 0.02018) × 44/28 / 1000 = 325.58 × 11/7 / 1000
    # × 265 (AR5): 325.58 × 11 × 265 / 7 / 1000 = 135.5806...
    with decimal.localcontext(decimal.Context(prec=50)):
        baseline = D("325.58") * 11 * 265 / 7 / 1000
        project = (D(20000) * D("0.00818") + D(4800) * D("0.02018")) * 11 * 265 / 7 / 1000
        gross = baseline - project
        net = gross - gross * D("0.1")
    assert result["baseline_tco2e"] == str(baseline.quantize(D("0.001")))
    assert result["project_tco2e"] == str(project.quantize(D("0.001")))
    assert result["deductions"] == {"uncertainty": str((gross * D("0.1")).quantize(D("0.001")))}
    assert result["net_tco2e"] == str(net.quantize(D("0.001")))


def test_m002_refuses_a_rate_that_is_not_lower() -> None:
    with pytest.raises(NotApplicable) as caught:
        get("YRD-AG-M002").evaluate(
            {"strata": [{"area_ha": 1, "baseline_n_kg_ha": 200, "project_n_kg_ha": 200}]}
        )
    assert caught.value.extensions["errors"][0]["parameter"] == "strata[0].project_n_kg_ha"


def test_m003_stock_change_with_buffer_and_uncertainty() -> None:
    params = {
        "years": "1",
        "uncertainty_deduction_share": "0.05",
        "strata": [
            {
                "area_ha": "100",
                "soil_type": "hac",
                "baseline_tillage": "full",
                "project_tillage": "no_till",
                "baseline_input": "medium",
                "project_input": "high_without_manure",
            }
        ],
    }
    result = get("YRD-AG-M003").evaluate(params).as_dict()
    # SOC_ref 64 × F_LU(paddy) 1.35 = 86.4 t C/ha; baseline × 1.00 × 1.00 = 86.4;
    # project × 1.10 × 1.11 = 105.4944; ΔC = 19.0944 / 20 × 100 ha = 95.472 t C
    # × 44/12 = 350.064 tCO2; uncertainty 5% = 17.5032; buffer 20% of 332.5608 = 66.51216
    # net = 332.5608 − 66.51216 = 266.04864
    assert result["baseline_tco2e"] == "0.000"
    assert result["project_tco2e"] == "-350.064"
    assert result["deductions"] == {"uncertainty": "17.503", "buffer": "66.512"}
    assert result["net_tco2e"] == "266.049"


def test_m003_measured_reference_stock_and_refusal() -> None:
    stratum = {
        "area_ha": "10",
        "soil_type": "lac",
        "soc_ref_t_c_ha": "40",
        "land_use": "long_term_cultivated",
        "baseline_tillage": "full",
        "project_tillage": "reduced",
        "baseline_input": "low",
        "project_input": "medium",
    }
    result = get("YRD-AG-M003").evaluate({"buffer_share": "0", "strata": [stratum]}).as_dict()
    # 40 × 0.69 = 27.6; baseline × 1.00 × 0.92 = 25.392; project × 1.05 × 1.00 = 28.98
    # ΔC = 3.588 / 20 × 10 = 1.794 t C × 44/12 = 6.578 tCO2
    assert result["net_tco2e"] == "6.578"
    worse = dict(stratum, project_tillage="full", project_input="low")
    with pytest.raises(NotApplicable):
        get("YRD-AG-M003").evaluate({"strata": [worse]})


def test_every_methodology_describes_itself() -> None:
    for methodology in CATALOG.values():
        description = methodology.describe()
        assert description["parameters"]["properties"]["strata"]
        assert description["factor_tables"] and description["equations"]
        assert all(t["source"].startswith(("IPCC", "YRD")) for t in description["factor_tables"])


regimes = st.sampled_from(sorted(SF_W))
amendments = st.lists(
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["straw_short", "straw_long", "compost", "green_manure"]),
            "rate_t_ha": st.decimals(min_value=0, max_value=20, places=2),
        }
    ),
    max_size=3,
)
strata = st.fixed_dictionaries(
    {
        "area_ha": st.decimals(min_value=D("0.01"), max_value=1000, places=2),
        "baseline_water_regime": regimes,
        "project_water_regime": regimes,
        "preseason_water_regime": st.sampled_from(["non_flooded_lt_180", "flooded_gt_30"]),
        "organic_amendments": amendments,
    }
).filter(lambda s: SF_W[s["project_water_regime"]] < SF_W[s["baseline_water_regime"]])


@settings(max_examples=150, deadline=None)
@given(st.lists(strata, min_size=1, max_size=5), st.sampled_from(["AR4", "AR5", "AR6"]))
def test_m001_net_is_positive_and_never_exceeds_baseline(
    layers: list[dict[str, Any]], gwp: str
) -> None:
    q = get("YRD-AG-M001").evaluate({"gwp": gwp, "strata": layers})
    assert 0 < q.net <= q.baseline
    with decimal.localcontext(PRECISION):
        assert q.net == q.baseline - q.project


@settings(max_examples=100, deadline=None)
@given(strata, st.integers(min_value=2, max_value=50))
def test_m001_scales_linearly_with_area(stratum: dict[str, Any], factor: int) -> None:
    m = get("YRD-AG-M001")
    one = m.evaluate({"strata": [stratum]})
    scaled = m.evaluate({"strata": [dict(stratum, area_ha=stratum["area_ha"] * factor)]})
    # Exact in the 50-digit context, so only the last digits may differ.
    split = m.evaluate({"strata": [stratum] * factor})
    with decimal.localcontext(PRECISION):
        assert abs(scaled.net - one.net * factor) <= D("1e-40") * max(1, scaled.net)
        # And splitting one field into `factor` equal strata changes nothing either.
        assert abs(split.net - scaled.net) <= D("1e-40") * max(1, scaled.net)
