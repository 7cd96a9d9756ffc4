"""Supervision over a real market: trades executed in matching reach disclosure through
`tanhui.matching` and raise the regulator's alerts; nobody else may read them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from services.disclosure.app import create_app as disclosure_app
from tests.conftest import Platform, running
from tests.e2e.matching_market import market_running


async def test_a_far_priced_trade_and_one_buyer_for_a_day_raise_alerts(
    platform: Platform, topics: str, tmp_path: Path
) -> None:
    public = disclosure_app(await platform.settings("disclosure", topics))  # type: ignore[arg-type]
    regulator = platform.token("REGULATOR", "regulator")
    async with (
        market_running(platform, topics, tmp_path, relay_enabled=True) as m,
        running(public) as disclosure,
    ):
        for consumer in public.state.runtime.consumers:
            await asyncio.wait_for(consumer.assigned.wait(), 30)
        await m.list_instrument()  # reference price 5,000 fen, band ±10%
        await m.admit("COOP-S1", units=100)
        await m.admit("ENT-B1", cash=10_000_000)
        for price, quantity in ((4_950, 4), (5_000, 3), (5_300, 2)):  # the last +6%
            listing = (await m.post_listing("COOP-S1", "sell", price, quantity)).json()
            trade = (await m.take("ENT-B1", listing["id"], quantity)).json()
            assert (await m.closed_trade(trade["trade_id"]))["status"] == "settled"
        async with asyncio.timeout(30):
            while True:
                got = await disclosure.get("/v1/supervision/alerts", headers=regulator)
                assert got.status_code == 200, got.text
                if len(got.json()["items"]) == 3:
                    break
                await asyncio.sleep(0.2)
        alerts = got.json()["items"]
        assert [(a["kind"], a["detail"].get("member")) for a in alerts] == [
            ("price_move", None),
            ("concentration", "ENT-B1"),  # bought all 9 t of a three-trade day
            ("concentration", "COOP-S1"),
        ]
        assert alerts[0]["detail"]["price"] == 5_300
        assert alerts[0]["detail"]["previous_close"] == 5_000
        only = "/v1/supervision/alerts?kind=price_move&format=csv"
        exported = await disclosure.get(only, headers=regulator)
        assert exported.status_code == 200 and len(exported.text.splitlines()) == 2
        earlier = "/v1/supervision/alerts?date_to=2000-01-01"
        assert (await disclosure.get(earlier, headers=regulator)).json()["items"] == []
        for headers, status in (({}, 401), (platform.token("ENT-B1", "member"), 403)):
            refused = await disclosure.get("/v1/supervision/alerts", headers=headers)
            assert refused.status_code == status
            assert refused.headers["content-type"] == "application/problem+json"
        unknown = await disclosure.get("/v1/supervision/alerts?kind=gossip", headers=regulator)
        assert unknown.status_code == 422
