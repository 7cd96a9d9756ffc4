"""Market statistics reach the public through `tanhui.matching`: disclosure's daily bars equal
matching's own, a failed trade never counts."""

from __future__ import annotations

import asyncio
from pathlib import Path

from services.disclosure.app import create_app as disclosure_app
from tests.conftest import Platform, running
from tests.e2e.matching_market import INSTRUMENT, market_running


async def test_disclosure_publishes_the_same_daily_bars(
    platform: Platform, topics: str, tmp_path: Path
) -> None:
    public = disclosure_app(await platform.settings("disclosure", topics))  # type: ignore[arg-type]
    async with (
        market_running(platform, topics, tmp_path, relay_enabled=True) as m,
        running(public) as disclosure,
    ):
        for consumer in public.state.runtime.consumers:
            await asyncio.wait_for(consumer.assigned.wait(), 30)
        await m.list_instrument()
        await m.admit("COOP-D1", units=100)
        await m.admit("ENT-D1", cash=1_000_000)
        listing = (await m.post_listing("COOP-D1", "sell", 5000, 20)).json()
        cheaper = (await m.post_listing("COOP-D1", "sell", 4900, 5)).json()
        for listing_id, quantity in ((cheaper["id"], 5), (listing["id"], 3)):
            trade = (await m.take("ENT-D1", listing_id, quantity)).json()
            assert (await m.closed_trade(trade["trade_id"]))["status"] == "settled"
        await m.faults({"operation": "settle", "mode": "refuse"})  # this one fails
        failed = (await m.take("ENT-D1", listing["id"], 7)).json()
        assert (await m.closed_trade(failed["trade_id"]))["status"] == "failed"
        expected = (await m.matching.get(f"/v1/market/{INSTRUMENT}/daily")).json()
        assert expected["days"][0]["volume"] == 8  # the failed 7 t never traded
        assert expected["days"][0]["close"] == (5 * 4900 + 3 * 5000 + 4) // 8  # VWAP, half up
        async with asyncio.timeout(30):
            while True:
                got = await disclosure.get(f"/v1/public/market/{INSTRUMENT}/daily")
                if got.status_code == 200 and got.json() == expected:
                    break
                await asyncio.sleep(0.2)
        day = expected["days"][0]["date"]
        same = await disclosure.get(f"/v1/public/market/{INSTRUMENT}/daily?date_from={day}")
        assert same.json() == expected
        before = f"/v1/public/market/{INSTRUMENT}/daily?date_to=2000-01-01"
        assert (await disclosure.get(before)).json()["days"] == []
        listed = (await disclosure.get("/v1/public/market")).json()
        assert [i["id"] for i in listed["items"]] == [INSTRUMENT]
        exported = await disclosure.get("/v1/public/market?format=csv")
        assert exported.text.splitlines()[1].startswith(INSTRUMENT)
        page = (await disclosure.get(f"/en/market/{INSTRUMENT}")).text
        assert "Daily close (fen/t) and volume (t)" in page
        day = expected["days"][0]
        assert f"{day['date']}: {day['volume']:,}</title></rect>" in page  # the day's volume bar
        assert f"{day['date']}: {day['close']:,}</title></circle>" in page  # and its close
        missing = await disclosure.get("/v1/public/market/YRDPH-1999/daily")
        assert missing.status_code == 404
