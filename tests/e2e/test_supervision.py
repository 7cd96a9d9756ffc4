"""Supervision over a real market: trades executed in matching reach disclosure through
`tanhui.matching` and raise the regulator's alerts; the audit trail reads an entity's stream
from every service's log; nobody but a regulator may read either."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from services.disclosure.app import create_app as disclosure_app
from tests.conftest import Platform, running
from tests.e2e.matching_market import Market, market_running


@asynccontextmanager
async def supervised_market(
    platform: Platform, topics: str, tmp_path: Path
) -> AsyncIterator[tuple[Market, httpx.AsyncClient]]:
    """The market, and disclosure reading the registry's and matching's logs in process
    (issuance is not running: its log cannot be read)."""
    async with market_running(platform, topics, tmp_path, relay_enabled=True) as m:
        settings = await platform.settings("disclosure", topics, issuance_url="http://127.0.0.1:9")
        public = disclosure_app(
            settings,  # type: ignore[arg-type]
            registry_transport=httpx.ASGITransport(app=m.registry_slice.app),  # type: ignore[arg-type]
            matching_transport=httpx.ASGITransport(app=m.matching_app),
        )
        async with running(public) as disclosure:
            for consumer in public.state.runtime.consumers:
                await asyncio.wait_for(consumer.assigned.wait(), 30)
            yield m, disclosure


async def trade_three_times(m: Market) -> tuple[dict[str, str], list[str]]:
    """ENT-B1 buys 9 t from COOP-S1 in three trades, the last 6% above the reference price."""
    await m.list_instrument()  # reference price 5,000 fen, band ±10%
    seller = await m.admit("COOP-S1", units=100)
    await m.admit("ENT-B1", cash=10_000_000)
    trades = []
    for price, quantity in ((4_950, 4), (5_000, 3), (5_300, 2)):
        listing = (await m.post_listing("COOP-S1", "sell", price, quantity)).json()
        trade = (await m.take("ENT-B1", listing["id"], quantity)).json()
        assert (await m.closed_trade(trade["trade_id"]))["status"] == "settled"
        trades.append(trade["trade_id"])
    return seller, trades


async def alerts(disclosure: httpx.AsyncClient, regulator: dict[str, str], count: int) -> Any:
    async with asyncio.timeout(30):
        while True:
            got = await disclosure.get("/v1/supervision/alerts", headers=regulator)
            assert got.status_code == 200, got.text
            if len(got.json()["items"]) == count:
                return got.json()["items"]
            await asyncio.sleep(0.2)


async def test_a_far_priced_trade_and_one_buyer_for_a_day_raise_alerts(
    platform: Platform, topics: str, tmp_path: Path
) -> None:
    regulator = platform.token("REGULATOR", "regulator")
    async with supervised_market(platform, topics, tmp_path) as (m, disclosure):
        seller, trades = await trade_three_times(m)
        found = await alerts(disclosure, regulator, 3)
        assert [(a["kind"], a["detail"].get("member")) for a in found] == [
            ("price_move", None),
            ("concentration", "ENT-B1"),  # bought all 9 t of a three-trade day
            ("concentration", "COOP-S1"),
        ]
        assert found[0]["detail"]["price"] == 5_300
        assert found[0]["detail"]["previous_close"] == 5_000
        only = "/v1/supervision/alerts?kind=price_move&format=csv"
        exported = await disclosure.get(only, headers=regulator)
        assert exported.status_code == 200 and len(exported.text.splitlines()) == 2
        earlier = "/v1/supervision/alerts?date_to=2000-01-01"
        assert (await disclosure.get(earlier, headers=regulator)).json()["items"] == []
        unknown = await disclosure.get("/v1/supervision/alerts?kind=gossip", headers=regulator)
        assert unknown.status_code == 422

        # The audit trail: a trade's history in matching's log, an account's in the registry's.
        trail = await disclosure.get(
            f"/v1/supervision/audit?stream=trade/{trades[-1]}", headers=regulator
        )
        assert trail.status_code == 200, trail.text
        kinds = [(e["service"], e["event"]["type"].split(".")[2]) for e in trail.json()["events"]]
        assert kinds[0] == ("matching", "TradeExecuted") and ("matching", "TradeSettled") in kinds
        assert trail.json()["unavailable"] == ["issuance"]
        account = seller["registry_account"]
        history = await disclosure.get(
            f"/v1/supervision/audit?stream=account/{account}", headers=regulator
        )
        assert [e["event"]["type"] for e in history.json()["events"]] == [
            "tanhui.registry.AccountOpened.v1"
        ]
        for path in ("/v1/supervision/alerts", f"/v1/supervision/audit?stream=trade/{trades[0]}"):
            for headers, status in (({}, 401), (platform.token("ENT-B1", "member"), 403)):
                refused = await disclosure.get(path, headers=headers)
                assert refused.status_code == status
                assert refused.headers["content-type"] == "application/problem+json"
