"""The block agreement (大宗协议) end to end: negotiations, directed proposals, refusals,
expiry — against the real registry, the settlement simulator, PostgreSQL and Tansu."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Platform
from tests.e2e.matching_market import INSTRUMENT, Market, market_running
from tests.e2e.test_matching_refusals import slug

BLOCK = 100_000  # t: the block agreement's minimum


@pytest.fixture(name="m")
async def market(platform: Platform, topics: str, tmp_path: Path) -> AsyncIterator[Market]:
    async with market_running(platform, topics, tmp_path) as running_market:
        yield running_market


async def quote(
    m: Market, org: str, side: str, price: int, quantity: int = BLOCK, **extra: Any
) -> httpx.Response:
    body = {"instrument": INSTRUMENT, "side": side, "price": price, "quantity": quantity} | extra
    headers = m.member(org) | {"Idempotency-Key": f"quote-{org}-{price}-{quantity}"}
    return await m.matching.post("/v1/block-quotes", json=body, headers=headers)


async def counter(
    m: Market, org: str, quote_id: str, price: int, quantity: int = BLOCK
) -> httpx.Response:
    headers = m.member(org) | {"Idempotency-Key": f"counter-{org}-{price}"}
    return await m.matching.post(
        f"/v1/block-quotes/{quote_id}/counter",
        json={"price": price, "quantity": quantity},
        headers=headers,
    )


async def accept(m: Market, org: str, quote_id: str, key: str = "accept") -> httpx.Response:
    headers = m.member(org) | {"Idempotency-Key": f"{key}-{org}"}
    return await m.matching.post(f"/v1/block-quotes/{quote_id}/accept", headers=headers)


async def eventually(check: Callable[[], Any], timeout: float = 20) -> None:
    """Wait until `check()` (awaited) is true: the market's clock releases legs in passes."""
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)


async def test_a_negotiation_ends_in_a_settled_block_trade(m: Market) -> None:
    await m.list_instrument()
    seller = await m.admit("COOP-BLK", units=BLOCK)
    buyer = await m.admit("ENT-BLK", cash=1_000_000_000)
    posted = await quote(m, "COOP-BLK", "sell", 5000)
    assert posted.status_code == 201, posted.text
    quote_id = posted.json()["id"]
    assert await m.units(seller) == (0, BLOCK)  # escrowed by the quote
    assert (await counter(m, "ENT-BLK", quote_id, 4800)).status_code == 201
    assert await m.balance(buyer) == (1_000_000_000, 480_000_000)
    # The seller's escrow covers its own counter: nothing new is escrowed.
    countered = await counter(m, "COOP-BLK", quote_id, 4900)
    assert countered.status_code == 201, countered.text
    assert await m.units(seller) == (0, BLOCK)
    taken = await accept(m, "ENT-BLK", quote_id)
    assert taken.status_code == 201, taken.text
    trade = taken.json()
    assert (trade["mode"], trade["price"], trade["quantity"]) == ("block", 4900, BLOCK)
    assert (trade["buyer"], trade["seller"]) == ("ENT-BLK", "COOP-BLK")
    assert (await m.closed_trade(trade["trade_id"]))["status"] == "settled"
    again = await accept(m, "ENT-BLK", quote_id)  # a late retry replays the trade
    assert again.status_code == 201, again.text
    assert again.json()["trade_id"] == trade["trade_id"]
    assert again.headers.get("idempotent-replayed") == "true"

    assert await m.units(buyer) == (BLOCK, 0)
    assert await m.units(seller) == (0, 0)
    paid = 4900 * BLOCK
    # The 480,000,000 fen reservation did not cover the accepted terms: a new one paid (the
    # buyer needed both for a moment); the old one is released by the market's clock.
    await eventually(lambda: _balance_is(m, buyer, (1_000_000_000 - paid, 0)))
    assert await m.balance(seller) == (paid, 0)
    view = (
        await m.matching.get(f"/v1/block-quotes/{quote_id}", headers=m.member("ENT-BLK"))
    ).json()
    assert view["status"] == "accepted" and view["trade_id"] == trade["trade_id"]
    assert [(o["member"], o["price"]) for o in view["offers"]] == [
        ("COOP-BLK", 5000),
        ("ENT-BLK", 4800),
        ("COOP-BLK", 4900),
    ]
    # Market data shows a block trade; it does not make the close (listing trades do).
    public = (await m.matching.get(f"/v1/market/{INSTRUMENT}/trades")).json()["items"]
    assert [(t["mode"], t["price"]) for t in public] == [("block", 4900)]
    bar = (await m.matching.get(f"/v1/market/{INSTRUMENT}/daily")).json()["days"][0]
    assert (bar["volume"], bar["close"]) == (BLOCK, 5000)
    await m.verified()


async def _balance_is(m: Market, member: dict[str, str], expected: tuple[int, int]) -> bool:
    return await m.balance(member) == expected


async def test_a_directed_proposal_is_invisible_to_others(m: Market) -> None:
    await m.list_instrument()
    await m.admit("COOP-D", units=BLOCK)
    await m.admit("ENT-D1", cash=600_000_000)
    await m.admit("ENT-D2", cash=600_000_000)
    posted = await quote(m, "COOP-D", "sell", 5000, counterparty="ENT-D1")
    assert posted.status_code == 201, posted.text
    quote_id = posted.json()["id"]
    path = f"/v1/block-quotes/{quote_id}"
    assert (await m.matching.get(path, headers=m.member("ENT-D2"))).status_code == 404
    assert (await m.matching.get(path)).status_code == 404  # the public: nothing either
    assert (await accept(m, "ENT-D2", quote_id)).status_code == 404
    others = (await m.matching.get("/v1/block-quotes", headers=m.member("ENT-D2"))).json()
    assert quote_id not in [q["id"] for q in others]
    assert (await m.matching.get(path, headers=m.member("ENT-D1"))).json()["directed"]
    assert (await m.matching.get(path, headers=m.operator)).status_code == 200
    taken = await accept(m, "ENT-D1", quote_id)
    assert taken.status_code == 201, taken.text
    assert (await m.closed_trade(taken.json()["trade_id"]))["status"] == "settled"
    await m.verified()


async def test_block_refusals_name_their_cause_and_change_nothing(m: Market) -> None:
    await m.list_instrument()
    seller = await m.admit("COOP-R", units=BLOCK)
    buyer = await m.admit("ENT-R", cash=600_000_000)
    await m.admit("ENT-R2", cash=600_000_000)
    cases = [
        (await quote(m, "COOP-R", "sell", 5000, BLOCK - 1), 409, "quantity-under-minimum"),
        (await quote(m, "COOP-R", "sell", 6501), 409, "price-outside-band"),  # ±30 % of 5000
        (await quote(m, "COOP-R", "sell", 5000, 2 * BLOCK), 409, "insufficient-units"),
        (await quote(m, "COOP-R", "sell", 5000, counterparty="COOP-R"), 422, "self-addressed"),
        (await quote(m, "COOP-R", "sell", 5000, counterparty="NOBODY"), 404, "unknown-member"),
        (await quote(m, "ENT-R", "buy", 6500), 409, "insufficient-funds"),
    ]
    for response, status, cause in cases:
        assert (response.status_code, slug(response)) == (status, cause), response.text
    assert await m.units(seller) == (BLOCK, 0)
    assert await m.balance(buyer) == (600_000_000, 0)

    quote_id = (await quote(m, "COOP-R", "sell", 5000)).json()["id"]
    assert slug(await accept(m, "COOP-R", quote_id)) == "offer-is-yours"
    assert slug(await counter(m, "COOP-R", quote_id, 5100)) == "offer-is-yours"
    assert (await counter(m, "ENT-R", quote_id, 4900)).status_code == 201
    assert slug(await accept(m, "ENT-R2", quote_id)) == "not-your-negotiation"
    withdrawn = await m.matching.post(
        f"/v1/block-quotes/{quote_id}/withdraw", headers=m.member("COOP-R")
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert slug(await accept(m, "COOP-R", quote_id, key="late")) == "block-quote-closed"
    # Ending the negotiation releases both parties' legs.
    await eventually(lambda: _units_and_cash_back(m, seller, buyer))
    await m.verified()


async def _units_and_cash_back(m: Market, seller: dict[str, str], buyer: dict[str, str]) -> bool:
    return await m.units(seller) == (BLOCK, 0) and await m.balance(buyer) == (600_000_000, 0)


async def test_two_members_accepting_one_public_quote_make_one_trade(m: Market) -> None:
    await m.list_instrument()
    await m.admit("COOP-C", units=BLOCK)
    buyers = [await m.admit(f"ENT-C{n}", cash=600_000_000) for n in range(4)]
    quote_id = (await quote(m, "COOP-C", "sell", 5000)).json()["id"]
    answers = await asyncio.gather(*(accept(m, b["org"], quote_id) for b in buyers))
    made = [a for a in answers if a.status_code == 201]
    assert len(made) == 1, [a.text for a in answers]
    assert {slug(a) for a in answers if a.status_code != 201} == {"block-quote-closed"}
    assert (await m.closed_trade(made[0].json()["trade_id"]))["status"] == "settled"
    losers = [b for b, a in zip(buyers, answers, strict=True) if a.status_code != 201]
    for loser in losers:  # the refused acceptances' reservations were released
        await eventually(lambda loser=loser: _balance_is(m, loser, (600_000_000, 0)))
    await m.verified()


def shanghai(hour: int, minute: int = 0, second: int = 0) -> datetime:
    """Monday 7 December 2026 at the given Asia/Shanghai time, in UTC."""
    return datetime(2026, 12, 7, hour - 8, minute, second, tzinfo=UTC)


async def test_quotes_keep_to_the_block_window_and_expire_at_its_end(m: Market) -> None:
    await m.list_instrument(sessions=None)  # the exchange's calendar: block window 13:00–15:00
    seller = await m.admit("COOP-W", units=BLOCK)
    market = m.matching_app.state.market
    market.clock = lambda: shanghai(10)
    closed = await quote(m, "COOP-W", "sell", 5000)
    assert (closed.status_code, slug(closed)) == (409, "market-closed")
    assert closed.json()["next_opening"] == "2026-12-07T13:00:00+08:00"
    market.clock = lambda: shanghai(14, 30)
    posted = await quote(m, "COOP-W", "sell", 5000)
    assert posted.status_code == 201, posted.text
    assert posted.json()["expires_at"].startswith("2026-12-07T07:00:00")  # 15:00 in Shanghai
    assert await m.units(seller) == (0, BLOCK)
    market.clock = lambda: shanghai(15, 0, 1)
    path = f"/v1/block-quotes/{posted.json()['id']}"

    async def expired() -> bool:
        view = (await m.matching.get(path, headers=m.member("COOP-W"))).json()
        return bool(view["status"] == "expired") and await m.units(seller) == (BLOCK, 0)

    await eventually(expired)
    await m.verified()
