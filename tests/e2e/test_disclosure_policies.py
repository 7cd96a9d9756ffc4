"""Policy publication 政策发布: publish, amend, withdraw; versions kept; bodies safe HTML."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from services.disclosure.app import create_app
from tests.conftest import Platform, running

BODY = {
    "title_zh": "长三角生态绿色一体化发展示范区农业碳汇交易管理办法（试行）",
    "title_en": "Measures for agricultural carbon-sink trading in the demonstration zone (trial)",
    "body_zh": "# 总则\n\n第一条 为规范……\n\n<script>alert(1)</script>\n\n[链接](javascript:alert(1))",
    "body_en": "# General provisions\n\n| a | b |\n|---|---|\n| 1 | 2 |",
    "category": "regulation",
    "issuer": "示范区执委会 Executive Committee",
    "document_number": "示范区执委发〔2026〕12号",
    "issued_on": "2026-11-30",
    "effective_on": "2027-01-01",
}


@pytest.fixture(name="d")
async def disclosure(
    platform: Platform, topics: str
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    app = create_app(await platform.settings("disclosure", topics, consumers_enabled=False))  # type: ignore[arg-type]
    async with running(app) as client:
        yield client, app


async def test_a_policy_is_published_amended_and_withdrawn(
    d: tuple[httpx.AsyncClient, FastAPI], platform: Platform
) -> None:
    client, app = d
    regulator = platform.token("SH-ECO-ENV", "regulator") | {"Idempotency-Key": "pub-1"}
    published = await client.post("/v1/policies", json=BODY, headers=regulator)
    assert published.status_code == 201, published.text
    policy = published.json()["id"]
    again = await client.post("/v1/policies", json=BODY, headers=regulator)
    assert again.json() == published.json()  # the same key: the same policy

    member = platform.token("ENT-1", "member")
    assert (await client.post("/v1/policies", json=BODY, headers=member)).status_code == 403
    assert (await client.post("/v1/policies", json=BODY)).status_code == 401
    bad = await client.post(
        "/v1/policies", json=BODY | {"category": "gossip"}, headers=platform.token("R", "regulator")
    )
    assert bad.status_code == 422

    admin = platform.token("ORG-REGISTRY", "registry_admin")
    amended = await client.post(
        f"/v1/policies/{policy}/amend",
        json=BODY | {"effective_on": "2027-02-01", "note": "生效日期推迟 effective date moved"},
        headers=admin,
    )
    assert amended.status_code == 201 and amended.json()["version"] == 2

    view = (await client.get(f"/v1/public/policies/{policy}")).json()
    assert (view["version"], view["effective_on"], view["withdrawn"]) == (2, "2027-02-01", False)
    assert [v["version"] for v in view["versions"]] == [2, 1]
    html = view["versions"][1]["body_zh_html"]
    assert "<h1>总则</h1>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html  # raw HTML only ever as text
    assert 'href="javascript' not in html
    assert "<table>" in view["versions"][0]["body_en_html"]

    withdrawn = await client.post(
        f"/v1/policies/{policy}/withdraw", json={"reason": "superseded"}, headers=admin
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn"]
    late = await client.post(f"/v1/policies/{policy}/amend", json=BODY, headers=admin)
    assert late.status_code == 409
    listed = (await client.get("/v1/public/policies?q=12号")).json()
    assert [(p["id"], p["withdrawn"], p["withdrawn_reason"]) for p in listed["items"]] == [
        (policy, True, "superseded")
    ]
    assert (await client.get("/v1/public/policies?category=notice")).json()["items"] == []
    first = (await client.get("/v1/public/policies?limit=1")).json()
    assert [p["id"] for p in first["items"]] == [policy] and first["next_cursor"]
    rest = await client.get("/v1/public/policies", params={"cursor": first["next_cursor"]})
    assert rest.json() == {"items": [], "next_cursor": None}
    day = {"issued_from": "2026-11-30", "issued_to": "2026-11-30"}
    assert len((await client.get("/v1/public/policies", params=day)).json()["items"]) == 1
    later = (await client.get("/v1/public/policies?issued_from=2026-12-01")).json()
    assert later["items"] == []
    bad = await client.get("/v1/public/policies?cursor=not-a-cursor")
    assert bad.status_code == 422
    assert (await client.get("/v1/public/policies/POL-999999")).status_code == 404
    log = await app.state.runtime.store.read_stream(f"policy/{policy}")
    assert [e.type.split(".")[2] for e in log] == [
        "PolicyPublished",
        "PolicyAmended",
        "PolicyWithdrawn",
    ]


async def test_attachments_are_stored_with_their_digest_and_categories_filter_the_page(
    d: tuple[httpx.AsyncClient, FastAPI], platform: Platform
) -> None:
    client, _ = d
    admin = platform.token("ORG-REGISTRY", "registry_admin")
    policy = (
        await client.post("/v1/policies", json=BODY | {"category": "market_rule"}, headers=admin)
    ).json()["id"]
    content = "附件：交易规则细则\n".encode() * 100
    files = {"file": ("交易规则细则.txt", content, "text/plain")}
    keyed = admin | {"Idempotency-Key": "attach-1"}
    attached = await client.post(f"/v1/policies/{policy}/attachments", files=files, headers=keyed)
    assert attached.status_code == 201, attached.text
    again = await client.post(f"/v1/policies/{policy}/attachments", files=files, headers=keyed)
    assert again.json() == attached.json()  # the same key and file: one attachment
    attachment = attached.json()
    assert attachment["sha256"] == hashlib.sha256(content).hexdigest()
    assert (attachment["size"], attachment["version"]) == (len(content), 1)

    empty = {"file": ("empty.txt", b"", "text/plain")}
    refused = await client.post(f"/v1/policies/{policy}/attachments", files=empty, headers=admin)
    assert refused.status_code == 422 and refused.json()["type"].endswith("invalid-attachment")
    member = platform.token("ENT-1", "member")
    denied = await client.post(f"/v1/policies/{policy}/attachments", files=files, headers=member)
    assert denied.status_code == 403

    view = (await client.get(f"/v1/public/policies/{policy}")).json()
    assert [a["id"] for a in view["attachments"]] == [attachment["id"]]
    path = f"/v1/public/policies/{policy}/attachments/{attachment['id']}"
    download = await client.get(path)
    assert download.content == content
    assert download.headers["etag"] == f'"{attachment["sha256"]}"'
    assert "filename*=UTF-8''" in download.headers["content-disposition"]
    assert (await client.get(path.replace("ATT-", "ATT-9"))).status_code == 404

    page = await client.get(f"/en/policies/{policy}")
    assert "Attachments" in page.text and path in page.text
    chosen = await client.get("/policies?category=market_rule")
    assert policy in chosen.text and "交易规则" in chosen.text
    other = await client.get("/policies?category=notice")
    assert policy not in other.text
