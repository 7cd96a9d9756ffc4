"""The portal in a real browser: Playwright driving Debian's chromium (`tests/browser_setup.sh`
installs it; no browser is ever downloaded). Every page in both languages, a serial looked up
through the form, a link followed, an export downloaded; screenshots under the test's temp dir."""

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
from tests.e2e.conftest import Slice
from tests.e2e.test_disclosure_retirements import eventually
from tests.e2e.test_registry_movements import issue
from tests.e2e.test_thin_slice import open_account

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
]


@pytest.fixture
async def portal(s: Slice) -> AsyncIterator[str]:
    """The running disclosure app (its lifespan is the `s` fixture's) served over HTTP."""
    port = free_port()
    config = uvicorn.Config(
        s.disclosure._transport.app, port=port, lifespan="off", log_level="warning"
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
    s: Slice, platform: Platform, portal: str, tmp_path: Path
) -> None:
    coop = await open_account(s, "COOP-QP-05")
    await issue(s, coop, 2024, 40)
    retired = await s.registry.post(
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
    await eventually(s, "/v1/public/retirements", lambda p: len(p["items"]) == 1)
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
        finally:
            await browser.close()
    shots = await asyncio.to_thread(lambda: list(tmp_path.glob("*.png")))
    assert len(shots) == 2 * len(PAGES)
