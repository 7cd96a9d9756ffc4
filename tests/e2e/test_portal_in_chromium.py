"""The portal in a real browser: Playwright driving Debian's chromium (`tests/browser_setup.sh`
installs it; no browser is ever downloaded). Every page in both languages, a serial looked up
through the form, a link followed, an export downloaded, a comment sent on an open public
notice through the portal's form (to issuance, and back on the page once consumed);
screenshots under the test's temp dir."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import async_playwright

from libs.devstack.processes import free_port
from tests.conftest import Platform
from tests.e2e.conftest import Platform3
from tests.e2e.issuance_flow import Actors, collection, feature, project_under_notice, square
from tests.e2e.test_disclosure_projects import eventually

CHROMIUM = os.environ.get("TANHUI_CHROMIUM", "/usr/bin/chromium")
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


@pytest.fixture
def notice_seconds() -> float:
    return 3600.0  # the notice stays open while the browser comments on it


@pytest.fixture
async def portal(p3: Platform3) -> AsyncIterator[str]:
    """The running disclosure app (its lifespan is the `p3` fixture's) served over HTTP."""
    port = free_port()
    config = uvicorn.Config(
        p3.disclosure._transport.app, port=port, lifespan="off", log_level="warning"
    )  # type: ignore[attr-defined]
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await serving


async def test_the_portal_in_chromium(
    p3: Platform3, platform: Platform, portal: str, tmp_path: Path
) -> None:
    actors = Actors.of(platform, org="COOP-QP-05")
    opened = await p3.registry.post(
        "/v1/accounts", json={"name": "合作社"}, headers=actors.developer
    )
    coop = opened.json()["id"]
    parcels = collection(feature("C1", square(9, 9)))
    project = await project_under_notice(p3.issuance, actors, parcels, account=coop)
    body = {"program": "YRDPH", "project": "QP0007", "vintage": 2024, "quantity": 40,
            "account": coop}  # fmt: skip
    admin = platform.token("ORG-REGISTRY", "registry_admin")
    assert (await p3.registry.post("/v1/issuances", json=body, headers=admin)).status_code == 201
    retired = await p3.registry.post(
        "/v1/retirements",
        json={
            "account": coop,
            "quantity": 6,
            "beneficiary": "青浦区政府",
            "purpose": "voluntary_offset",
        },
        headers=platform.token("COOP-QP-05", "account_holder"),
    )
    assert retired.status_code == 201, retired.text
    await eventually(p3, "/v1/public/retirements", lambda p: len(p["items"]) == 1)
    await eventually(p3, f"/v1/public/projects/{project}", lambda p: p["id"] == project)
    serial = retired.json()["blocks"][0]["serial"]

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = await browser.new_page(accept_downloads=True)
            for prefix in ("", "/en"):
                for path in PAGES:
                    response = await page.goto(portal + prefix + path)
                    assert response is not None and response.status == 200, prefix + path
                    text = await page.inner_text("body")
                    assert ("首页" in text) == (prefix == ""), prefix + path  # one language only
                    assert ("Home" in text) == (prefix == "/en"), prefix + path
                    name = (prefix + path).strip("/").replace("/", "-") or "home"
                    await page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)

            await page.goto(portal + "/serials")  # the lookup form, as a visitor uses it
            await page.fill("#serial", serial)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"**/serials/{serial}")
            assert "青浦区政府" in await page.inner_text("main")

            await page.goto(portal + "/en/retirements")  # a link followed
            await page.click(f"text={serial}")
            await page.wait_for_url(f"**/en/serials/{serial}")
            assert "CreditsRetired" in await page.inner_text("main")

            await page.goto(portal + "/en/retirements")  # an export downloaded
            async with page.expect_download() as waiting:
                await page.click("text=CSV")
            download = await waiting.value
            saved = tmp_path / download.suggested_filename
            await download.save_as(saved)
            assert saved.name == "retirements.csv" and "青浦区政府" in saved.read_text("utf-8-sig")

            await page.goto(portal + f"/notices/{project}")  # a comment on the open notice
            await page.fill("#author", "村民")
            await page.fill("#text", "灌溉记录很清楚")
            await page.click("form[method=post] button[type=submit]")
            await page.wait_for_url(f"**/notices/{project}?sent=received")
            assert "意见已收到" in await page.inner_text("main")
            await eventually(
                p3, f"/v1/public/notices/{project}/comments", lambda c: len(c["items"]) == 1
            )
            await page.reload()
            assert "灌溉记录很清楚" in await page.inner_text("main")
        finally:
            await browser.close()
    shots = await asyncio.to_thread(lambda: list(tmp_path.glob("*.png")))
    assert len(shots) == 2 * len(PAGES)
