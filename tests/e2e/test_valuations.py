"""Valuations over a real market: trades executed in matching reach disclosure, whose marks
value positions for anyone and an account's holdings for whoever the registry shows them to."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from services.disclosure.app import create_app as disclosure_app
from tests.conftest import Platform, running
from tests.e2e.matching_market import INSTRUMENT, market_running


async def test_holdings_are_marked_at_the_close_for_their_owner_only(
    platform: Platform, topics: str, tmp_path: Path
) -> None:
    async with market_running(platform, topics, tmp_path, relay_enabled=True) as m:
        settings = await platform.settings("disclosure", topics)
        public = disclosure_app(
            settings,  # type: ignore[arg-type]
            registry_transport=httpx.ASGITransport(app=m.registry_slice.app),  # type: ignore[arg-type]
        )
        async with running(public) as disclosure:
            for consumer in public.state.runtime.consumers:
                await asyncio.wait_for(consumer.assigned.wait(), 30)
            await m.list_instrument()  # reference price 5,000 fen
            body = {"positions": [{"program": "YRDPH", "vintage": 2024, "quantity": 10}]}
            async with asyncio.timeout(30):  # until disclosure has consumed the listing
                while (before := await disclosure.post("/v1/valuations", json=body)).json()[
                    "unpriced_quantity"
                ]:
                    await asyncio.sleep(0.2)
            assert before.json()["lines"][0]["basis"] == "reference"
            assert before.json()["total_value"] == 50_000

            seller = await m.admit("COOP-V1", units=100)
            buyer = await m.admit("ENT-V1", cash=1_000_000)
            for price, quantity in ((5_100, 4), (5_200, 6)):
                listing = (await m.post_listing("COOP-V1", "sell", price, quantity)).json()
                trade = (await m.take("ENT-V1", listing["id"], quantity)).json()
                assert (await m.closed_trade(trade["trade_id"]))["status"] == "settled"
            close = (4 * 5_100 + 6 * 5_200 + 5) // 10  # the day's VWAP, half up: 5,160
            async with asyncio.timeout(30):
                while (got := (await disclosure.post("/v1/valuations", json=body)).json())["lines"][
                    0
                ]["basis"] != "close" or got["lines"][0]["price"] != close:
                    await asyncio.sleep(0.2)
            assert got["total_value"] == 10 * close
            page = await disclosure.get("/en/valuation?program=YRDPH&vintage=2024&quantity=10")
            assert f"<strong>{10 * close / 100:,.2f}</strong> yuan" in page.text  # 516.00
            assert f'href="/en/market/{INSTRUMENT}"' in page.text  # the marks' table

            path = f"/v1/valuations/accounts/{buyer['registry_account']}"
            owned = await disclosure.get(path, headers=m.member("ENT-V1"))
            assert owned.status_code == 200, owned.text
            assert owned.json()["lines"] == [got["lines"][0]]  # the 10 t it bought
            assert owned.json()["account"] == buyer["registry_account"]
            stranger = await disclosure.get(path, headers=m.member("COOP-V1"))
            assert stranger.status_code == 404  # the registry does not say whose accounts exist
            assert stranger.headers["content-type"] == "application/problem+json"
            assert (await disclosure.get(path)).status_code == 401
            missing = "/v1/valuations/accounts/ACC-NOPE"
            assert (await disclosure.get(missing, headers=m.member("ENT-V1"))).status_code == 404
            early = await disclosure.post("/v1/valuations", json=body | {"as_of": "2000-01-01"})
            assert early.json()["lines"][0]["basis"] == "reference"
            seller_units = await disclosure.get(
                f"/v1/valuations/accounts/{seller['registry_account']}", headers=m.member("COOP-V1")
            )
            assert seller_units.json()["lines"][0]["quantity"] == 90
            assert got["lines"][0]["instrument"] == INSTRUMENT
