"""The public portal over HTTP: every page in both languages with real data, every link on
them answering, a serial looked up through the form, a valuation asked through its form. (In a
real browser: tests/e2e/test_portal_in_chromium.py.)"""

from __future__ import annotations

import base64
import re
from html import unescape
from urllib.parse import urljoin

from tests.conftest import Platform
from tests.e2e.conftest import Slice
from tests.e2e.test_disclosure_retirements import eventually
from tests.e2e.test_registry_movements import issue
from tests.e2e.test_thin_slice import open_account

PAGES = [
    "/",
    "/projects",
    "/notices",
    "/issuances",
    "/retirements",
    "/market",
    "/methodologies",
    "/policies",
    "/serials",
    "/valuation",
    "/transparency",
]


async def test_every_page_in_both_languages_and_every_link(s: Slice, platform: Platform) -> None:
    coop = await open_account(s, "COOP-QP-04")
    await issue(s, coop, 2024, 30)
    retired = await s.registry.post(
        "/v1/retirements",
        json={
            "account": coop,
            "quantity": 5,
            "beneficiary": "示范区会议",
            "purpose": "carbon_neutral_event",
        },
        headers=platform.token("COOP-QP-04", "account_holder"),
    )
    assert retired.status_code == 201, retired.text
    policy = await s.disclosure.post(
        "/v1/policies",
        json={
            "title_zh": "碳普惠管理办法",
            "title_en": "Carbon inclusion measures",
            "body_zh": "第一条 <b>粗体</b>",
            "body_en": "Article 1",
            "category": "regulation",
            "issuer": "示范区执委会",
            "document_number": "〔2026〕1号",
            "issued_on": "2026-12-01",
            "effective_on": "2027-01-01",
        },
        headers=platform.token("SH-ECO-ENV", "regulator"),
    )
    assert policy.status_code == 201, policy.text
    await eventually(s, "/v1/public/retirements", lambda p: len(p["items"]) == 1)

    seen: set[str] = set()
    queue = [prefix + page for prefix in ("", "/en") for page in PAGES]
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        page = await s.disclosure.get(path)
        assert page.status_code == 200, (path, page.status_code)
        if not page.headers["content-type"].startswith("text/html"):
            continue  # a CSV or XLSX download
        html = page.text
        english = path.startswith("/en")
        assert f'<html lang="{"en" if english else "zh-CN"}">' in html
        assert "<script" not in html  # no JavaScript needed, none sent
        assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
        for link in re.findall(r'href="([^"]+)"', html):
            target = urljoin(path, unescape(link))  # as a browser reads the attribute
            if target.startswith("/") and target not in seen:
                queue.append(target)
    assert any(p.startswith("/serials/") for p in seen)  # reached from the retirements page
    assert any(p.startswith("/en/policies/POL-") for p in seen)
    downloads = {p.partition("?")[0] for p in seen if p.endswith(("format=csv", "format=xlsx"))}
    assert downloads >= {
        f"/v1/public/{name}"
        for name in ("totals", "projects", "notices", "issuances", "retirements", "market",
                     "methodologies", "policies", "points")
    }  # fmt: skip
    policy_page = await s.disclosure.get("/policies/" + policy.json()["id"])
    assert "&lt;b&gt;粗体&lt;/b&gt;" in policy_page.text  # raw HTML in a body is shown as text

    assert "Data as of 20" in (await s.disclosure.get("/en/")).text
    assert "数据截至 20" in (await s.disclosure.get("/")).text
    serial = retired.json()["blocks"][0]["serial"]
    looked_up = await s.disclosure.get(
        "/en/serials", params={"serial": serial}, follow_redirects=True
    )
    assert looked_up.status_code == 200 and "CreditsRetired" in looked_up.text
    assert "示范区会议" in looked_up.text
    unknown = await s.disclosure.get("/serials/NOT-A-SERIAL")
    assert unknown.status_code == 404 and "未找到" in unknown.text
    missing = await s.disclosure.get("/en/projects/QP9999")
    assert missing.status_code == 404 and "Not found" in missing.text


async def test_the_transparency_and_valuation_pages(s: Slice) -> None:
    await open_account(s, "COOP-QP-05")  # a registry log of one event
    # The transparency page: every log's signed head, the unreachable ones said so.
    heads = (await s.disclosure.get("/en/transparency")).text
    registry_root = (await s.registry.get("/v1/ledger/checkpoint")).text.splitlines()[2]
    assert base64.b64decode(registry_root).hex() in heads
    assert "Cannot be read now" in heads  # matching is not running here
    # A valuation asked through the form; nonsense in it is left out, not refused.
    valued = await s.disclosure.get("/en/valuation?program=YRDPH&vintage=2024&quantity=10")
    assert valued.status_code == 200 and "No instrument trades these credits." in valued.text
    odd = await s.disclosure.get("/valuation?vintage=²&quantity=-3&program=<b>")
    assert odd.status_code == 200 and "<b>" not in odd.text.split("<main>")[1]
    assert (await s.disclosure.get("/issuances?vintage=²")).status_code == 200


async def test_methodologies_with_equations_and_factor_sources(s: Slice) -> None:
    listed = (await s.disclosure.get("/v1/public/methodologies")).json()
    assert "YRD-AG-M001" in [m["id"] for m in listed["items"]]
    one = (await s.disclosure.get("/v1/public/methodologies?limit=1")).json()
    assert len(one["items"]) == 1 and one["next_cursor"]
    following = await s.disclosure.get(
        "/v1/public/methodologies", params={"cursor": one["next_cursor"]}
    )
    assert one["items"][0] not in following.json()["items"]
    exported = await s.disclosure.get("/v1/public/methodologies?format=csv")
    assert exported.text.lstrip("\ufeff").startswith("id,version,name_zh,name_en")
    assert "YRD-AG-M001" in exported.text
    page = await s.disclosure.get("/en/methodologies/YRD-AG-M001")
    assert page.status_code == 200 and "IPCC 2019" in page.text and "Equations" in page.text
    zh = await s.disclosure.get("/methodologies/YRD-AG-M001")
    assert "计算公式" in zh.text
    assert (await s.disclosure.get("/methodologies/NOPE")).status_code == 404
    odd = await s.disclosure.get("/v1/public/methodologies/%C3%9E%03%20x")  # never forwarded
    assert odd.status_code == 404
