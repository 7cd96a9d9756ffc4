"""Issuance API: methodologies, uploads of activity files, idempotency, rate limits, buffer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from services.issuance.app import create_app as issuance_app
from tests.conftest import Platform, running
from tests.e2e.conftest import NOTICE_SECONDS, Platform3
from tests.e2e.issuance_flow import (
    Actors,
    act,
    collection,
    feature,
    m001_row,
    ok,
    problem,
    project_body,
    registered_project,
    square,
    upload,
)
from tests.unit.test_activity_and_parcels import xlsx


@pytest.fixture(name="issuance")
async def issuance_only(platform: Platform, topics: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = await platform.settings(
        "issuance", topics, public_notice_days=NOTICE_SECONDS / 86_400, comment_rate_per_minute=3
    )
    async with running(issuance_app(settings)) as client:  # type: ignore[arg-type]
        yield client


async def test_methodologies_are_discoverable_and_quantify_has_no_side_effects(
    issuance: httpx.AsyncClient,
) -> None:
    listed = await ok(await issuance.get("/v1/methodologies"))
    assert {m["id"] for m in listed} == {"YRD-AG-M001", "YRD-AG-M002", "YRD-AG-M003"}
    m001 = await ok(await issuance.get("/v1/methodologies/YRD-AG-M001"))
    assert m001["name"]["zh"] and m001["versions"] == [1]
    assert "strata" in m001["parameters"]["properties"]
    tables = {t["id"]: t for t in m001["factor_tables"]}
    assert tables["SF_w"]["values"]["multiple_drainage"] == "0.55"
    assert tables["SF_w"]["source"] == "IPCC 2019 Vol.4 Table 5.12"
    await problem(await issuance.get("/v1/methodologies/YRD-AG-M999"), 404, "unknown-methodology")
    await problem(
        await issuance.get("/v1/methodologies/YRD-AG-M001?version=7"), 404, "unknown-methodology"
    )

    quantify = "/v1/methodologies/YRD-AG-M001/quantify"
    stratum = m001_row("x")
    del stratum["parcel_id"]
    result = await ok(
        await issuance.post(quantify, json={"parameters": {"strata": [dict(stratum, area_ha=10)]}})
    )
    assert result["net_tco2e"] == "18.628" and result["version"] == 1
    assert result["trace"][-1]["name"] == "net_tco2e"
    body = await problem(
        await issuance.post(
            quantify,
            json={
                "parameters": {
                    "strata": [
                        dict(stratum, area_ha=10, project_water_regime="continuously_flooded")
                    ]
                }
            },
        ),
        422,
        "not-applicable",
    )
    assert body["errors"][0]["parameter"] == "strata[0].project_water_regime"
    body = await problem(
        await issuance.post(
            quantify, json={"parameters": {"strata": [dict(stratum, area_ha="lots")]}}
        ),
        422,
        "invalid-parameters",
    )
    assert body["errors"][0]["parameter"] == "strata[0].area_ha"
    # No side effects: the log is still empty.
    assert (await ok(await issuance.get("/v1/projects"))) == {"items": [], "next_cursor": None}


async def test_activity_files_are_checked_and_their_upload_is_idempotent(
    issuance: httpx.AsyncClient, platform: Platform
) -> None:
    actors = Actors.of(platform)
    fields = collection(feature("P1", square(0, 0, 2), 4.0), feature("P2", square(2, 0)))
    project = await registered_project(issuance, actors, fields, NOTICE_SECONDS)
    path = f"/v1/projects/{project}/monitoring-reports/upload"

    bad = b"parcel_id,baseline_water_regime,project_water_regime,preseason_water_regime\n"
    bad += b"P1,continuously_flooded,continuously_flooded,non_flooded_lt_180\n"
    bad += b"P3,continuously_flooded,multiple_drainage,non_flooded_lt_180\n"
    body = await problem(
        await issuance.post(
            path,
            data={"period_start": "2025-04-01", "period_end": "2025-10-31"},
            files={"file": ("a.csv", bad, "text/csv")},
            headers=actors.developer,
        ),
        422,
        "invalid-activity-data",
    )
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "parcel_id")]

    sheet = xlsx(
        [
            [
                "parcel_id",
                "baseline_water_regime",
                "project_water_regime",
                "preseason_water_regime",
            ],
            ["P1", "continuously_flooded", "multiple_drainage", "non_flooded_lt_180"],
            ["P2", "continuously_flooded", "single_drainage", "non_flooded_lt_180"],
        ]
    )
    request = {
        "data": {"period_start": "2025-04-01", "period_end": "2025-10-31"},
        "files": {"file": ("监测数据.xlsx", sheet, "application/vnd.ms-excel")},
        "headers": actors.developer | {"Idempotency-Key": "mr-2025"},
    }
    first = await issuance.post(path, **request)  # type: ignore[arg-type]
    report = await ok(first, 201)
    # P1 4 ha × 1.32 × 112 / 1000 × 28 × 0.45 + P2 1 ha × 1.32 × 112 / 1000 × 28 × 0.29
    #   = 7.451136 + 1.2004416 = 8.6515776
    assert report["net_tco2e"] == "8.652"
    replay = await issuance.post(path, **request)  # type: ignore[arg-type]
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["id"] == report["id"]
    request["files"] = {"file": ("监测数据.xlsx", sheet + b" ", "application/vnd.ms-excel")}
    await problem(await issuance.post(path, **request), 409, "idempotency-key-reused")  # type: ignore[arg-type]
    listed = await ok(await issuance.get(f"/v1/projects/{project}/monitoring-reports"))
    assert [r["id"] for r in listed["items"]] == [report["id"]]


async def test_comments_only_during_the_notice_and_three_a_minute_per_address(
    issuance: httpx.AsyncClient, platform: Platform
) -> None:
    actors = Actors.of(platform)
    second = await ok(
        await issuance.post("/v1/projects", json=project_body(), headers=actors.developer), 201
    )
    pid = second["id"]
    await ok(await upload(issuance, pid, "project_design", actors.developer), 201)
    await ok(
        await issuance.post(
            f"/v1/projects/{pid}/parcels",
            json=collection(feature("Q1", square(9, 9))),
            headers=actors.developer,
        ),
        201,
    )
    for action, who in (("submit", actors.developer), ("start_review", actors.reviewer)):
        await ok(await act(issuance, pid, action, who))
    await problem(
        await issuance.post(f"/v1/projects/{pid}/comments", json={"text": "早了"}),
        404,
        "unknown-project",
    )
    await ok(await upload(issuance, pid, "validation_report", actors.validator), 201)
    await ok(await act(issuance, pid, "validate", actors.validator))
    await ok(await act(issuance, pid, "start_notice", actors.admin))
    # Attempts count, refused or not: the early one above, then two accepted.
    for n in range(2):
        await ok(
            await issuance.post(f"/v1/projects/{pid}/comments", json={"text": f"意见{n}"}), 201
        )
    limited = await issuance.post(f"/v1/projects/{pid}/comments", json={"text": "太多"})
    await problem(limited, 429, "rate-limited")
    assert int(limited.headers["retry-after"]) >= 1
    assert len(await ok(await issuance.get(f"/v1/projects/{pid}/comments"))) == 2


async def test_soil_carbon_buffer_goes_to_the_programs_buffer_account(
    p3: Platform3, platform: Platform
) -> None:
    actors = Actors.of(platform, "COOP-JS-03")
    account = (
        await ok(
            await p3.registry.post(
                "/v1/accounts", json={"name": "嘉善合作社"}, headers=actors.developer
            ),
            201,
        )
    )["id"]
    project = await registered_project(
        p3.issuance,
        actors,
        collection(feature("S1", square(30, 30, 10), 100.0)),
        NOTICE_SECONDS,
        registry_account=account,
        county="JS",
        methodology="YRD-AG-M003",
        methodology_parameters={"buffer_share": "0.2"},
    )
    row = {
        "parcel_id": "S1",
        "soil_type": "hac",
        "baseline_tillage": "full",
        "project_tillage": "no_till",
        "baseline_input": "medium",
        "project_input": "high_without_manure",
    }
    report = await ok(
        await p3.issuance.post(
            f"/v1/projects/{project}/monitoring-reports",
            json={"period_start": "2025-01-01", "period_end": "2025-12-31", "activity": [row]},
            headers=actors.developer,
        ),
        201,
    )
    # ~100 ha (measured area of a 1 km square, declared 100): 350.064 tCO2, buffer 20% 70.013,
    # net 280.051 (see the M003 unit test for the arithmetic).
    assert report["deductions"]["buffer"] == "70.013" and report["net_tco2e"] == "280.051"
    statement = await ok(
        await upload(
            p3.issuance, project, "verification_report", actors.verifier, report_id=report["id"]
        ),
        201,
    )
    await ok(
        await p3.issuance.post(
            f"/v1/monitoring-reports/{report['id']}/verify",
            json={"verified_tco2e": "250", "statement_document": statement["id"]},
            headers=actors.verifier,
        )
    )
    approved = await ok(
        await p3.issuance.post(
            f"/v1/monitoring-reports/{report['id']}/approve", json={}, headers=actors.admin
        )
    )
    # tradable floor(250) = 250; buffer floor(70.013 × 250 / 280.051) = floor(62.50…) = 62
    assert approved["issued_quantity"] == 312 and approved["buffer_quantity"] == 62
    again = await p3.issuance.post(
        f"/v1/monitoring-reports/{report['id']}/approve", json={}, headers=actors.admin
    )
    await problem(again, 409, "report-state")
    started = time.monotonic()
    while (
        await p3.registry.get(f"/v1/accounts/{account}/holdings", headers=actors.developer)
    ).json()["total"] != 250:
        assert time.monotonic() - started < 20, "not issued"
        await asyncio.sleep(0.1)
    batch = "YRDPH-15-JS0001-2025-001"
    supply = await ok(await p3.registry.get(f"/v1/batches/{batch}/supply", headers=actors.admin))
    assert supply["issued"] == 312


async def test_concurrent_transitions_have_one_winner_and_rejection_is_terminal(
    issuance: httpx.AsyncClient, platform: Platform
) -> None:
    actors = Actors.of(platform)
    project = (
        await ok(
            await issuance.post("/v1/projects", json=project_body(), headers=actors.developer), 201
        )
    )["id"]
    await ok(await upload(issuance, project, "project_design", actors.developer), 201)
    await ok(
        await issuance.post(
            f"/v1/projects/{project}/parcels",
            json=collection(feature("R1", square(50, 50))),
            headers=actors.developer,
        ),
        201,
    )
    await ok(await act(issuance, project, "submit", actors.developer))
    responses = await asyncio.gather(
        *(act(issuance, project, "start_review", actors.reviewer, f"#{n}") for n in range(10))
    )
    assert sorted(r.status_code for r in responses) == [200] + [409] * 9
    history = await ok(await issuance.get(f"/v1/projects/{project}/history", headers=actors.admin))
    assert [h["data"].get("action") for h in history].count("start_review") == 1

    await ok(await act(issuance, project, "reject", actors.validator, "基准线不成立"))
    for action, who in (
        ("resubmit", actors.developer),
        ("validate", actors.validator),
        ("start_notice", actors.admin),
    ):
        body = await problem(await act(issuance, project, action, who), 409, "illegal-transition")
        assert body["current_status"] == "rejected"
    # Nothing can be attached to a rejected project either.
    await problem(
        await upload(issuance, project, "other", actors.developer), 409, "illegal-transition"
    )
