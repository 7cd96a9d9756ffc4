"""Projects reach the public from issuance's topic once under public notice — never before —
with their parcels, documents, history and the notice's comments."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import Platform
from tests.e2e.conftest import NOTICE_SECONDS, Platform3
from tests.e2e.issuance_flow import (
    Actors,
    collection,
    feature,
    m001_row,
    ok,
    project_body,
    project_under_notice,
    registered_project,
    square,
    upload,
)


async def eventually(p3: Platform3, path: str, done: Any) -> Any:
    async with asyncio.timeout(30):
        while True:
            got = await p3.disclosure.get(path)
            if got.status_code == 200 and done(got.json()):
                return got.json()
            await asyncio.sleep(0.2)


async def test_public_projects_notices_and_comments(p3: Platform3, platform: Platform) -> None:
    actors = Actors.of(platform)
    account = (
        await ok(
            await p3.registry.post(
                "/v1/accounts", json={"name": "青浦稻米合作社"}, headers=actors.developer
            ),
            201,
        )
    )["id"]
    parcels = collection(feature("A1", square(0, 0)), feature("A2", square(1, 0)))
    registered = await registered_project(
        p3.issuance, actors, parcels, NOTICE_SECONDS, account=account
    )
    draft = (
        await ok(
            await p3.issuance.post(
                "/v1/projects",
                json=project_body(account, title="草稿项目 draft"),
                headers=actors.developer,
            ),
            201,
        )
    )["id"]
    page = await eventually(
        p3,
        "/v1/public/projects",
        lambda p: any(x["id"] == registered and x["status"] == "registered" for x in p["items"]),
    )
    assert draft not in [x["id"] for x in page["items"]]  # drafts are never public
    assert (await p3.disclosure.get(f"/v1/public/projects/{draft}")).status_code == 404

    detail = (await p3.disclosure.get(f"/v1/public/projects/{registered}")).json()
    assert detail["status"] == "registered"
    assert [p["parcel_id"] for p in detail["parcels"]] == ["A1", "A2"]
    assert detail["parcels"][0]["geometry"]["type"] == "Polygon"
    assert float(detail["area_ha"]) > 0
    assert {d["kind"] for d in detail["documents"]} == {"project_design", "validation_report"}
    assert all(len(d["sha256"]) == 64 for d in detail["documents"])
    steps = [h["to_status"] for h in detail["history"]]
    assert steps[-2:] == ["public_notice", "registered"]

    county = (await p3.disclosure.get("/v1/public/projects?county=WJ")).json()
    assert county["items"] == []
    found = (await p3.disclosure.get("/v1/public/projects?q=" + detail["title"][:2])).json()
    assert registered in [x["id"] for x in found["items"]]
    past = (await p3.disclosure.get("/v1/public/notices?state=past")).json()
    assert registered in [n["project_id"] for n in past["items"]]
    elsewhere = await p3.disclosure.get("/v1/public/notices?state=past&county=WJ")
    assert elsewhere.json() == {"items": [], "next_cursor": None}


async def test_an_open_notice_and_its_comments(p3: Platform3, platform: Platform) -> None:
    actors = Actors.of(platform, org="COOP-QP-08")
    account = (
        await ok(
            await p3.registry.post(
                "/v1/accounts", json={"name": "合作社"}, headers=actors.developer
            ),
            201,
        )
    )["id"]
    client = p3.issuance
    parcels = collection(feature("B1", square(5, 5)))
    project = await project_under_notice(client, actors, parcels, account=account)
    comment = await client.post(
        f"/v1/projects/{project}/comments", json={"author": "村民", "text": "水位管理很好"}
    )
    assert comment.status_code == 201, comment.text
    notices = await eventually(
        p3, "/v1/public/notices", lambda n: any(x["project_id"] == project for x in n["items"])
    )
    notice = next(x for x in notices["items"] if x["project_id"] == project)
    assert notice["status"] == "public_notice"
    comments = await eventually(
        p3, f"/v1/public/notices/{project}/comments", lambda c: len(c["items"]) == 1
    )
    first = comments["items"][0]
    assert (first["author"], first["text"]) == ("村民", "水位管理很好")

    # The portal's form: handed to issuance, shown on the notice's page once consumed.
    listed = await p3.disclosure.get("/notices")
    assert listed.status_code == 200 and f"/notices/{project}" in listed.text
    page = await p3.disclosure.get(f"/en/notices/{project}")
    assert page.status_code == 200 and 'name="text"' in page.text  # open: the form is there
    sent = await p3.disclosure.post(
        f"/en/notices/{project}/comments",
        data={"author": "Visitor", "text": "Good water management"},
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/en/notices/{project}?sent=received"
    thanks = await p3.disclosure.get(sent.headers["location"])
    assert "Comment received" in thanks.text
    await eventually(p3, f"/v1/public/notices/{project}/comments", lambda c: len(c["items"]) == 2)
    assert "Good water management" in (await p3.disclosure.get(f"/notices/{project}")).text
    empty = await p3.disclosure.post(f"/notices/{project}/comments", data={"text": ""})
    assert empty.status_code == 422


async def test_monitoring_verification_and_issuance_are_in_the_public_history(
    p3: Platform3, platform: Platform
) -> None:
    actors = Actors.of(platform)
    account = (
        await ok(
            await p3.registry.post(
                "/v1/accounts", json={"name": "吴江合作社"}, headers=actors.developer
            ),
            201,
        )
    )["id"]
    parcels = collection(feature("A1", square(0, 0)), feature("A2", square(1, 0)))
    project = await registered_project(
        p3.issuance, actors, parcels, NOTICE_SECONDS, account=account
    )
    report = await ok(
        await p3.issuance.post(
            f"/v1/projects/{project}/monitoring-reports",
            json={
                "period_start": "2025-04-01",
                "period_end": "2025-10-31",
                "activity": [m001_row("A1"), m001_row("A2")],
            },
            headers=actors.developer,
        ),
        201,
    )
    statement = await ok(
        await upload(
            p3.issuance, project, "verification_report", actors.verifier, report_id=report["id"]
        ),
        201,
    )
    await ok(
        await p3.issuance.post(
            f"/v1/monitoring-reports/{report['id']}/verify",
            json={"verified_tco2e": "3.2", "statement_document": statement["id"]},
            headers=actors.verifier,
        )
    )
    await ok(
        await p3.issuance.post(
            f"/v1/monitoring-reports/{report['id']}/approve", json={}, headers=actors.admin
        )
    )
    detail = await eventually(
        p3,
        f"/v1/public/projects/{project}",
        lambda d: d["monitoring"] and d["monitoring"][0]["issued_quantity"] is not None,
    )
    [period] = detail["monitoring"]
    assert (period["period_start"], period["period_end"]) == ("2025-04-01", "2025-10-31")
    assert (period["net_tco2e"], period["verified_tco2e"]) == (report["net_tco2e"], "3.200")
    assert period["verifier"] == "VER-BODY-1"
    assert period["statement_document"] == statement["id"]
    assert period["issued_quantity"] == 3 and period["approved_at"] is not None
    page = await p3.disclosure.get(f"/en/projects/{project}")
    assert page.status_code == 200
    assert "Monitoring, verification and issuance" in page.text and "3.200" in page.text
