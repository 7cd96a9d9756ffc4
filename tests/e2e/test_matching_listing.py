"""The listing agreement end to end: the real registry, the settlement simulator and matching."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import Platform
from tests.e2e.matching_market import INSTRUMENT, Market, market_running


@pytest.fixture(name="m")
async def market(platform: Platform, topics: str, tmp_path: Path) -> AsyncIterator[Market]:
    async with market_running(platform, topics, tmp_path) as running_market:
        yield running_market


async def test_a_listing_is_taken_and_settles_delivery_versus_payment(m: Market) -> None:
    await m.list_instrument()
    seller = await m.admit("COOP-QP-01", units=100)
    buyer = await m.admit("ENT-STEEL-01", cash=1_000_000)
    posted = await m.post_listing("COOP-QP-01", "sell", 5000, 10, key="post-1")
    assert posted.status_code == 201, posted.text
    listing = posted.json()
    assert (listing["status"], listing["remaining"]) == ("open", 10)
    assert await m.units(seller) == (90, 10)  # escrowed in the registry

    board = (await m.matching.get(f"/v1/listings?instrument={INSTRUMENT}&side=sell")).json()
    assert board["levels"][0]["price"] == 5000
    assert board["levels"][0]["listings"][0]["id"] == listing["id"]

    taken = await m.take("ENT-STEEL-01", listing["id"], 4, key="take-1")
    assert taken.status_code == 201, taken.text
    trade = taken.json()
    assert (trade["price"], trade["quantity"], trade["amount"]) == (5000, 4, 20_000)
    assert (trade["buyer"], trade["seller"]) == ("ENT-STEEL-01", "COOP-QP-01")
    closed = await m.closed_trade(trade["trade_id"])
    assert closed["status"] == "settled", closed

    assert await m.units(buyer) == (4, 0)
    assert await m.units(seller) == (90, 6)  # the rest still escrowed for the listing
    assert await m.balance(buyer) == (1_000_000 - 20_000, 0)
    assert await m.balance(seller) == (20_000, 0)
    left = await m.matching.get(f"/v1/listings/{listing['id']}", headers=m.member("COOP-QP-01"))
    assert left.json()["remaining"] == 6

    daily = (await m.matching.get(f"/v1/market/{INSTRUMENT}/daily")).json()["days"]
    assert len(daily) == 1
    bar = daily[0]
    assert (bar["open"], bar["close"], bar["volume"], bar["turnover"]) == (5000, 5000, 4, 20_000)
    quote = (await m.matching.get(f"/v1/market/{INSTRUMENT}/quote")).json()
    assert (quote["best_ask"], quote["last"], quote["best_bid"]) == (5000, 5000, None)


async def test_a_retried_take_trades_once(m: Market) -> None:
    await m.list_instrument()
    await m.admit("COOP-1", units=10)
    buyer = await m.admit("ENT-1", cash=100_000)
    listing = (await m.post_listing("COOP-1", "sell", 5000, 10, key="p")).json()
    first = await m.take("ENT-1", listing["id"], 3, key="same")
    again = await m.take("ENT-1", listing["id"], 3, key="same")
    assert first.status_code == again.status_code == 201
    assert again.headers.get("idempotent-replayed") == "true"
    assert first.json()["trade_id"] == again.json()["trade_id"]
    await m.closed_trade(first.json()["trade_id"])
    assert await m.units(buyer) == (3, 0)
    assert await m.balance(buyer) == (100_000 - 15_000, 0)


async def test_a_buy_listing_reserves_cash_and_a_seller_takes_it(m: Market) -> None:
    await m.list_instrument()
    seller = await m.admit("COOP-2", units=50)
    buyer = await m.admit("ENT-2", cash=100_000)
    posted = await m.post_listing("ENT-2", "buy", 4900, 20, key="bid")
    assert posted.status_code == 201, posted.text
    assert await m.balance(buyer) == (100_000, 98_000)
    taken = await m.take("COOP-2", posted.json()["id"], 5, key="hit")
    assert taken.status_code == 201, taken.text
    assert (await m.closed_trade(taken.json()["trade_id"]))["status"] == "settled"
    assert await m.units(seller) == (45, 0)
    assert await m.units(buyer) == (5, 0)
    assert await m.balance(buyer) == (100_000 - 24_500, 98_000 - 24_500)
    assert await m.balance(seller) == (24_500, 0)
    withdrawn = await m.matching.delete(
        f"/v1/listings/{posted.json()['id']}", headers=m.member("ENT-2")
    )
    assert withdrawn.status_code == 200, withdrawn.text
    for _ in range(100):  # the settlement process releases the rest of the reservation
        if (await m.balance(buyer))[1] == 0:
            break
        await asyncio.sleep(0.05)
    assert await m.balance(buyer) == (100_000 - 24_500, 0)
