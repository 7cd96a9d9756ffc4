"""Activity-data files (CSV/XLSX) and parcel geometry, without I/O."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from services.issuance.domain.activity import read_table, strata_from_file, strata_from_rows
from services.issuance.domain.errors import InvalidActivityData
from services.issuance.domain.methodologies import get
from services.issuance.domain.parcels import area_ha, parse_collection
from tests.e2e.issuance_flow import collection, feature, square

M001 = get("YRD-AG-M001")
AREAS = {"P1": Decimal("2.5"), "P2": Decimal("1.0")}
GOOD_CSV = (
    "\ufeffparcel_id,area_ha,baseline_water_regime,project_water_regime,preseason_water_regime,"
    "organic_amendments\n"
    "P1,,continuously_flooded,multiple_drainage,non_flooded_lt_180,straw_short:5;compost:2\n"
    "P2,0.8,continuously_flooded,single_drainage,flooded_gt_30,\n"
)


def test_a_good_csv_becomes_strata_with_default_areas_and_amendments() -> None:
    rows = read_table(GOOD_CSV.encode(), "activity.csv")
    parcel_ids, strata = strata_from_file(M001, rows, AREAS)
    assert parcel_ids == ["P1", "P2"]
    assert strata[0]["area_ha"] == "2.5"  # the parcel's declared area
    assert strata[0]["organic_amendments"] == [
        {"type": "straw_short", "rate_t_ha": "5"},
        {"type": "compost", "rate_t_ha": "2"},
    ]
    assert strata[1]["area_ha"] == "0.8" and strata[1]["organic_amendments"] == []
    assert M001.evaluate({"strata": strata}).net > 0


def test_every_row_error_is_reported_at_once() -> None:
    text = (
        "parcel_id,area_ha,baseline_water_regime,project_water_regime,preseason_water_regime\n"
        "P1,3.0,continuously_flooded,multiple_drainage,non_flooded_lt_180\n"  # area > parcel
        "P9,1,continuously_flooded,multiple_drainage,non_flooded_lt_180\n"  # unknown parcel
        "P2,abc,continuously_flooded,flooded,non_flooded_lt_180\n"  # two bad cells
        "P2,1,continuously_flooded,multiple_drainage,non_flooded_lt_180\n"
        "P2,1,continuously_flooded,multiple_drainage,non_flooded_lt_180\n"
    )
    with pytest.raises(InvalidActivityData) as caught:
        strata_from_file(M001, read_table(text.encode(), "a.csv"), AREAS)
    errors = [(e["row"], e["column"]) for e in caught.value.extensions["errors"]]
    assert errors == [
        (2, "area_ha"),
        (3, "parcel_id"),
        (4, "area_ha"),
        (4, "project_water_regime"),
        (5, "parcel_id"),  # P2 a second and a third time
        (6, "parcel_id"),
    ]


def test_header_errors_name_the_columns() -> None:
    text = "parcel_id,colour,baseline_water_regime\nP1,red,continuously_flooded\n"
    with pytest.raises(InvalidActivityData) as caught:
        strata_from_file(M001, read_table(text.encode(), "a.csv"), AREAS)
    assert {(e["row"], e["column"], e["message"]) for e in caught.value.extensions["errors"]} == {
        (1, "colour", "unknown column"),
        (1, "project_water_regime", "required column missing"),
        (1, "preseason_water_regime", "required column missing"),
    }


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_with_numbers_and_blank_rows() -> None:
    content = xlsx(
        [
            [
                "parcel_id",
                "area_ha",
                "cultivation_days",
                "baseline_water_regime",
                "project_water_regime",
                "preseason_water_regime",
            ],
            ["P1", 2.25, 110, "continuously_flooded", "multiple_drainage", "non_flooded_lt_180"],
            [None, None, None, None, None, None],
            ["P2", None, 100.0, "single_drainage", "multiple_drainage", "non_flooded_lt_180"],
        ]
    )
    parcel_ids, strata = strata_from_file(M001, read_table(content, "monitoring.xlsx"), AREAS)
    assert parcel_ids == ["P1", "P2"]
    assert strata[0]["area_ha"] == "2.25" and strata[0]["cultivation_days"] == 110
    assert strata[1]["area_ha"] == "1.0" and strata[1]["cultivation_days"] == 100


def test_unreadable_files_are_refused_clearly() -> None:
    with pytest.raises(InvalidActivityData, match="XLSX"):
        read_table(b"not a zip", "a.xlsx")
    with pytest.raises(InvalidActivityData, match="UTF-8"):
        read_table("parcel_id\nP1\n".encode("utf-16"), "a.csv")
    with pytest.raises(InvalidActivityData, match=r"\.csv or \.xlsx"):
        read_table(b"x", "a.ods")
    with pytest.raises(InvalidActivityData, match="header"):
        read_table(b"\n\n", "a.csv")


def test_parcel_area_is_measured_in_metres() -> None:
    parcels, errors = parse_collection(collection(feature("A", square(0, 0, size=3), 9.0)))
    assert not errors
    # 300 m × 300 m by construction (to ~0.5%): 9 ha.
    assert abs(parcels[0].computed_area_ha - 9) < Decimal("0.05")
    assert area_ha(parcels[0].shape) == parcels[0].computed_area_ha


def test_parcel_errors_are_collected() -> None:
    hole_outside = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [square(0, 0), square(5, 5)]},
        "properties": {"parcel_id": "H", "area_ha": 1},
    }
    features = collection(
        feature("A", square(0, 0)),
        feature("A", square(3, 0)),  # duplicate id
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [121, 31]},
            "properties": {"parcel_id": "P", "area_ha": 1},
        },
        {"type": "Feature", "geometry": None, "properties": {"area_ha": 1}},
        feature("Z", [[200.0, 31.0], [200.1, 31.0], [200.1, 31.1], [200.0, 31.0]]),
        feature("N", square(6, 0), area_ha=-1),
        hole_outside,
    )
    parcels, errors = parse_collection(features)
    assert [p.parcel_id for p in parcels] == ["A"]
    by_index = {e.index: e.message for e in errors}
    assert "twice" in by_index[1]
    assert "Polygon" in by_index[2]
    assert "parcel_id" in by_index[3]
    assert "outside" in by_index[4]
    assert "area_ha" in by_index[5]
    assert "invalid polygon" in by_index[6]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
near_features = st.fixed_dictionaries(
    {
        "type": st.just("Feature"),
        "geometry": st.fixed_dictionaries(
            {
                "type": st.sampled_from(["Polygon", "MultiPolygon", "Point"]),
                "coordinates": json_values,
            }
        )
        | json_values,
        "properties": st.fixed_dictionaries(
            {"parcel_id": st.text(max_size=3) | json_values, "area_ha": json_values}
        )
        | json_values,
    }
)


@settings(max_examples=300, deadline=None)
@given(st.lists(near_features | json_values, max_size=4))
def test_any_json_gets_parcel_errors_never_an_exception(features: list[object]) -> None:
    parcels, errors = parse_collection({"features": features})
    # Every feature yields a parcel or an error (overlaps may add more errors), each pointing
    # at a feature that exists.
    assert len(parcels) + len(errors) >= len(features)
    assert all(0 <= e.index < len(features) for e in errors)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from([c.name for c in M001.columns] + ["x"]), json_values, max_size=7
        ),
        min_size=1,
        max_size=4,
    )
)
def test_any_activity_rows_get_row_errors_never_an_exception(rows: list[dict[str, object]]) -> None:
    try:
        _, strata = strata_from_rows(M001, rows, AREAS)
    except InvalidActivityData as problem:
        assert problem.extensions["errors"]
    else:
        assert len(strata) == len(rows)
