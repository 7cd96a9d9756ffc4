"""Issuance end to end: a rice project from draft to credits in the registry and disclosure,
with the refusals of every step on the way."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import httpx

from tests.conftest import Platform
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


async def open_registry_account(p3: Platform3, actors: Actors) -> str:
    response = await p3.registry.post(
        "/v1/accounts", json={"name": "青浦稻米合作社"}, headers=actors.developer
    )
    return str((await ok(response, 201))["id"])


async def test_a_project_from_draft_to_credits_in_registry_and_disclosure(
    p3: Platform3, platform: Platform
) -> None:
    actors = Actors.of(platform)
    client = p3.issuance
    account = await open_registry_account(p3, actors)
    project = await _create_draft(p3, actors, account)
    await _documents_and_parcels(client, actors, project)
    await _review(client, platform, actors, project)
    await _public_notice(client, actors, project)
    report = await _monitoring(client, actors, project)
    await _verify_and_issue(p3, actors, account, project, report)
    await _history_names_every_step(client, project)


async def _create_draft(p3: Platform3, actors: Actors, account: str) -> str:
    client = p3.issuance
    # Draft: only developers create; project-level parameters are checked at once.
    await problem(
        await client.post("/v1/projects", json=project_body(account), headers=actors.reviewer),
        403,
        "forbidden",
    )
    bad = project_body(account, methodology_parameters={"gwp": "AR9", "colour": "red"})
    body = await problem(
        await client.post("/v1/projects", json=bad, headers=actors.developer),
        422,
        "invalid-parameters",
    )
    assert {e["parameter"] for e in body["errors"]} == {"colour"}
    bad = project_body(account, methodology_parameters={"gwp": "AR9"})
    body = await problem(
        await client.post("/v1/projects", json=bad, headers=actors.developer),
        422,
        "invalid-parameters",
    )
    assert [e["parameter"] for e in body["errors"]] == ["gwp"]
    created = await ok(
        await client.post("/v1/projects", json=project_body(account), headers=actors.developer),
        201,
    )
    project = created["id"]
    assert project == "QP0001" and created["status"] == "draft"

    # Drafts are invisible to the public and to other developers (404, not 403).
    await problem(await client.get(f"/v1/projects/{project}"), 404, "unknown-project")
    await problem(
        await client.get(f"/v1/projects/{project}", headers=actors.other_developer),
        404,
        "unknown-project",
    )
    return project


async def _documents_and_parcels(client: httpx.AsyncClient, actors: Actors, project: str) -> None:
    # Submission needs a design document and parcels.
    body = await problem(
        await act(client, project, "submit", actors.developer), 409, "precondition-missing"
    )
    assert "project_design" in body["detail"]
    pdd = await ok(
        await upload(
            client, project, "project_design", actors.developer, b"PDD v1 \xe9\x9d\x92\xe6\xb5\xa6"
        ),
        201,
    )
    assert len(pdd["sha256"]) == 64 and pdd["size"] == 13
    download = await client.get(f"/v1/documents/{pdd['id']}", headers=actors.developer)
    assert download.content == b"PDD v1 \xe9\x9d\x92\xe6\xb5\xa6"
    assert download.headers["etag"] == f'"{pdd["sha256"]}"'
    await problem(await client.get(f"/v1/documents/{pdd['id']}"), 404, "unknown-document")

    # Invalid parcels are all reported at once, and nothing is stored.
    bowtie = [[121.1, 31.15], [121.101, 31.151], [121.101, 31.15], [121.1, 31.151], [121.1, 31.15]]
    unclosed = [*square(10, 10)[:-1], [121.2, 31.2]]
    invalid = collection(
        feature("A1", square(0, 0), area_ha=1.0),
        feature("B1", bowtie),
        feature("B2", unclosed),
        feature("B3", square(20, 0), area_ha=1.5),
        feature("B4", square(0.5, 0.5)),
    )
    body = await problem(
        await client.post(
            f"/v1/projects/{project}/parcels", json=invalid, headers=actors.developer
        ),
        422,
        "invalid-parcels",
    )
    messages = {e["parcel_id"]: e["message"] for e in body["errors"]}
    assert "Self-intersection" in messages["B1"]
    assert "closed" in messages["B2"]
    assert "differs from the measured" in messages["B3"]
    assert "overlaps parcel B4" in messages["A1"]
    fields = collection(feature("A1", square(0, 0)), feature("A2", square(1, 0), area_ha=1.0))
    added = await ok(
        await client.post(f"/v1/projects/{project}/parcels", json=fields, headers=actors.developer),
        201,
    )
    measured = Decimal(added["added"][0]["computed_area_ha"])
    assert abs(measured - 1) < Decimal("0.01"), measured


async def _review(
    client: httpx.AsyncClient, platform: Platform, actors: Actors, project: str
) -> None:
    # The review loop, each step by its body only.
    await ok(await act(client, project, "submit", actors.developer, "首次申报"))
    await problem(await act(client, project, "start_review", actors.developer), 403, "forbidden")
    body = await problem(
        await act(client, project, "register", actors.admin), 409, "illegal-transition"
    )
    assert body["current_status"] == "submitted"
    await ok(await act(client, project, "start_review", actors.reviewer))
    await ok(await act(client, project, "request_changes", actors.reviewer, "请补充田块边界"))
    await ok(await act(client, project, "resubmit", actors.developer, "已补充"))
    await ok(await act(client, project, "start_review", actors.reviewer))
    await problem(
        await act(client, project, "validate", actors.validator), 409, "precondition-missing"
    )
    own_validator = platform.token("COOP-QP-07", "validator")
    await problem(
        await upload(client, project, "validation_report", own_validator), 403, "not-independent"
    )
    await ok(await upload(client, project, "validation_report", actors.validator), 201)
    await ok(await act(client, project, "validate", actors.validator, "审定通过"))


async def _public_notice(client: httpx.AsyncClient, actors: Actors, project: str) -> None:
    # Public notice: anyone may read and comment; registration waits for its end.
    noticed = await ok(await act(client, project, "start_notice", actors.admin))
    assert noticed["status"] == "public_notice" and noticed["notice_ends_at"]
    assert (await ok(await client.get(f"/v1/projects/{project}")))["status"] == "public_notice"
    await ok(
        await client.post(
            f"/v1/projects/{project}/comments", json={"author": "村民", "text": "支持"}
        ),
        201,
    )
    await problem(await act(client, project, "register", actors.admin), 409, "notice-not-over")
    await asyncio.sleep(NOTICE_SECONDS)
    await problem(
        await client.post(f"/v1/projects/{project}/comments", json={"text": "晚了"}),
        409,
        "illegal-transition",
    )
    await ok(await act(client, project, "register", actors.admin, "准予登记"))
    comments = await ok(await client.get(f"/v1/projects/{project}/comments"))
    assert [c["text"] for c in comments] == ["支持"]


async def _monitoring(client: httpx.AsyncClient, actors: Actors, project: str) -> dict[str, Any]:
    # Monitoring: row errors all at once; then a good report quantified with M001.
    rows = [m001_row("A1", area_ha="2"), m001_row("ZZ"), m001_row("A2", project_water_regime="x")]
    body = await problem(
        await client.post(
            f"/v1/projects/{project}/monitoring-reports",
            json={"period_start": "2025-04-01", "period_end": "2025-10-31", "activity": rows},
            headers=actors.developer,
        ),
        422,
        "invalid-activity-data",
    )
    assert [(e["row"], e["column"]) for e in body["errors"]] == [
        (1, "area_ha"),
        (2, "parcel_id"),
        (3, "project_water_regime"),
    ]
    report = await ok(
        await client.post(
            f"/v1/projects/{project}/monitoring-reports",
            json={
                "period_start": "2025-04-01",
                "period_end": "2025-10-31",
                "activity": [m001_row("A1"), m001_row("A2", cultivation_days=100)],
            },
            headers=actors.developer,
        ),
        201,
    )
    # A1: 1.32 × 1 × 1 × 112 days × 1 ha / 1000 × 28 × (1 − 0.55) = 1.862784 tCO2e
    # A2: 1.32 × 100 × 1 / 1000 × 28 × 0.45 = 1.6632 → net 3.525984
    assert report["net_tco2e"] == "3.526" and report["vintage"] == 2025
    overlapping = await client.post(
        f"/v1/projects/{project}/monitoring-reports",
        json={
            "period_start": "2025-10-01",
            "period_end": "2025-12-31",
            "activity": [m001_row("A1")],
        },
        headers=actors.developer,
    )
    await problem(overlapping, 409, "period-overlap")
    detail = await ok(await client.get(f"/v1/monitoring-reports/{report['id']}"))
    assert any(s["name"] == "strata[1].t" and s["value"] == "100" for s in detail["trace"])
    return report


async def _verify_and_issue(
    p3: Platform3, actors: Actors, account: str, project: str, report: dict[str, Any]
) -> None:
    client = p3.issuance
    # Verification: the statement first; verified ≤ claimed.
    statement = await ok(
        await upload(
            client, project, "verification_report", actors.verifier, report_id=report["id"]
        ),
        201,
    )
    verify = f"/v1/monitoring-reports/{report['id']}/verify"
    too_much = {"verified_tco2e": "3.527", "statement_document": statement["id"]}
    await problem(
        await client.post(verify, json=too_much, headers=actors.verifier),
        422,
        "verified-above-claimed",
    )
    await problem(
        await client.post(
            f"/v1/monitoring-reports/{report['id']}/approve", json={}, headers=actors.admin
        ),
        409,
        "report-state",
    )
    verified = {"verified_tco2e": "3.2", "statement_document": statement["id"]}
    await ok(await client.post(verify, json=verified, headers=actors.verifier))

    # Approval emits IssuanceApproved: floor(3.2) = 3 t to the developer's account.
    approved = await ok(
        await client.post(
            f"/v1/monitoring-reports/{report['id']}/approve",
            json={"comment": "同意签发"},
            headers=actors.admin,
        )
    )
    assert approved["status"] == "approved" and approved["issued_quantity"] == 3
    started = time.monotonic()
    while True:
        holdings = await ok(
            await p3.registry.get(f"/v1/accounts/{account}/holdings", headers=actors.developer)
        )
        if holdings["total"]:
            break
        assert time.monotonic() - started < 20, "the approval did not reach the registry"
        await asyncio.sleep(0.1)
    assert holdings["total"] == 3
    batch_id = holdings["blocks"][0]["batch_id"]
    assert batch_id == "YRDPH-15-QP0001-2025-001"
    while (await p3.disclosure.get(f"/v1/public/issuances/{batch_id}")).status_code != 200:
        assert time.monotonic() - started < 20, "the batch did not reach disclosure"
        await asyncio.sleep(0.1)
    by_methodology = await ok(await p3.disclosure.get("/v1/public/totals?by=methodology"))
    assert [(r["key"], r["issued"]) for r in by_methodology["rows"]] == [("YRD-AG-M001", 3)]


async def _history_names_every_step(client: httpx.AsyncClient, project: str) -> None:
    # The history names every step with its actor and comment.
    history = await ok(await client.get(f"/v1/projects/{project}/history"))
    steps = [
        (h["data"]["action"], h["actor"], h["data"]["comment"])
        for h in history
        if h["type"].endswith("ProjectTransitioned.v1")
    ]
    assert steps[0] == ("submit", "COOP-QP-07", "首次申报")
    assert steps[-1] == ("register", "ORG-REGISTRY", "准予登记")
    assert [s[0] for s in steps] == [
        "submit",
        "start_review",
        "request_changes",
        "resubmit",
        "start_review",
        "validate",
        "start_notice",
        "register",
    ]


async def test_a_parcel_of_a_registered_project_cannot_be_claimed_again(
    p3: Platform3, platform: Platform
) -> None:
    actors = Actors.of(platform)
    client = p3.issuance
    first = await registered_project(
        client, actors, collection(feature("F1", square(0, 0))), NOTICE_SECONDS
    )
    # Another cooperative, another program, another county: the same field is refused.
    other = await ok(
        await client.post(
            "/v1/projects",
            json=project_body(
                "ACC-000009",
                county="WJ",
                program="CCER",
                crediting_start="2030-01-01",
                crediting_end="2040-12-31",
            ),
            headers=actors.other_developer,
        ),
        201,
    )
    half_over = collection(feature("X1", square(0.5, 0)))
    body = await problem(
        await client.post(
            f"/v1/projects/{other['id']}/parcels", json=half_over, headers=actors.other_developer
        ),
        409,
        "parcel-overlap",
    )
    assert first in body["detail"] and body["conflicts"][0]["project"] == first
    # A neighbour that only touches the border is fine; so is the same field after the
    # first project's crediting period.
    await ok(
        await client.post(
            f"/v1/projects/{other['id']}/parcels",
            json=collection(feature("X2", square(1, 0))),
            headers=actors.other_developer,
        ),
        201,
    )
    later = await ok(
        await client.post(
            "/v1/projects",
            json=project_body(
                "ACC-000009", crediting_start="2035-01-01", crediting_end="2044-12-31"
            ),
            headers=actors.other_developer,
        ),
        201,
    )
    await ok(
        await client.post(
            f"/v1/projects/{later['id']}/parcels",
            json=collection(feature("Y1", square(0, 0))),
            headers=actors.other_developer,
        ),
        201,
    )
