"""The one-way auction (单向竞价) end to end: both pricings with worked examples, ties and
amendments, refusals, an auction nobody bids in, a crash during the call — against the real
registry, the settlement simulator, PostgreSQL and Tansu. The market's clock is injected: the
tests open and close bidding by moving it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Platform
from tests.e2e.matching_market import INSTRUMENT, Market, market_running
from tests.e2e.test_matching_block import eventually
from tests.e2e.test_matching_refusals import slug

OPENS = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
CLOSES = OPENS + timedelta(minutes=30)
OFFERED = 100_000  # t


@pytest.fixture(name="m")
async def market(platform: Platform, topics: str, tmp_path: Path) -> AsyncIterator[Market]:
    async with market_running(platform, topics, tmp_path) as running_market:
        await running_market.list_instrument()  # reference (previous close) 5000 fen
        at(running_market, OPENS - timedelta(minutes=5))
        yield running_market


def at(m: Market, moment: datetime) -> None:
    m.matching_app.state.market.clock = lambda: moment


async def announce(m: Market, seller: str, **terms: Any) -> httpx.Response:
    body = {
        "instrument": INSTRUMENT,
        "quantity": OFFERED,
        "reserve": "previous_close",
        "pricing": "uniform",
        "bidding_opens": OPENS.isoformat(),
        "bidding_closes": CLOSES.isoformat(),
    } | terms
    headers = m.member(seller) | {"Idempotency-Key": f"auction-{seller}"}
    return await m.matching.post("/v1/auctions", json=body, headers=headers)


async def bid(m: Market, org: str, auction: str, price: int, quantity: int) -> httpx.Response:
    headers = m.member(org) | {"Idempotency-Key": f"bid-{org}-{price}-{quantity}"}
    return await m.matching.post(
        f"/v1/auctions/{auction}/bids", json={"price": price, "quantity": quantity}, headers=headers
    )


async def called(m: Market, auction: str) -> dict[str, Any]:
    """Close bidding (move the clock past it) and wait for the call's result."""
    at(m, CLOSES + timedelta(seconds=1))
    result: dict[str, Any] = {}

    async def allocated() -> bool:
        result.update((await m.matching.get(f"/v1/auctions/{auction}/result")).json())
        return bool(result["status"] == "allocated")

    await eventually(allocated)
    return result


async def test_a_uniform_auction_sells_at_the_lowest_winning_price(m: Market) -> None:
    """100,000 t offered, reserve 5000 (the previous close), cap 5500. A bids 40,000 t at 5400,
    B 50,000 at 5200, C 30,000 at 5200 after B, D 20,000 at 5000. Ranked A, B, C, D: A gets
    40,000, B 50,000, C the last 10,000 (the marginal bid, in part), D nothing. Uniform: every
    winner pays 5200, the lowest winning price."""
    seller = await m.admit("COOP-AU", units=OFFERED)
    bidders = {org: await m.admit(org, cash=300_000_000) for org in ("A", "B", "C", "D")}
    announced = await announce(m, "COOP-AU")
    assert announced.status_code == 201, announced.text
    auction = announced.json()
    assert (auction["reserve_price"], auction["cap_price"]) == (5000, 5500)
    assert await m.units(seller) == (0, OFFERED)  # escrowed at the announcement
    at(m, OPENS)
    for org, price, quantity in (
        ("A", 5400, 40_000),
        ("B", 5200, 50_000),
        ("C", 5200, 30_000),
        ("D", 5000, 20_000),
    ):
        placed = await bid(m, org, auction["id"], price, quantity)
        assert placed.status_code == 201, placed.text
    assert await m.balance(bidders["A"]) == (300_000_000, 5400 * 40_000)

    result = await called(m, auction["id"])
    assert [(a["member"], a["quantity"], a["price"]) for a in result["allocations"]] == [
        ("A", 40_000, 5200),
        ("B", 50_000, 5200),
        ("C", 10_000, 5200),
    ]
    assert result["unsold"] == 0
    for allocation in result["allocations"]:
        trade = await m.closed_trade(allocation["trade_id"])
        assert (trade["status"], trade["mode"]) == ("settled", "auction")
    for org, bought in (("A", 40_000), ("B", 50_000), ("C", 10_000), ("D", 0)):
        assert await m.units(bidders[org]) == (bought, 0)
        paid = 5200 * bought  # A reserved 5400 a tonne: the rest is released
        await eventually(lambda org=org, paid=paid: _cash_is(m, bidders[org], 300_000_000 - paid))
    await eventually(lambda: _units_are(m, seller, (0, 0)))
    assert await m.balance(seller) == (5200 * OFFERED, 0)
    await m.verified()


async def _cash_is(m: Market, member: dict[str, str], balance: int) -> bool:
    return await m.balance(member) == (balance, 0)


async def _units_are(m: Market, member: dict[str, str], units: tuple[int, int]) -> bool:
    return await m.units(member) == units


async def test_pay_as_bid_ties_go_by_time_and_an_amended_bid_queues_again(m: Market) -> None:
    """Reserve 4500 (previous close −10 %), pay as bid. W bids 30,000 t at 5100, then Y and Z
    the same; W amends to 20,000 t and so queues after Z. X bids 60,000 at 5300. Call: X
    60,000 at 5300, Y 30,000 at 5100, Z the last 10,000 at 5100 (time priority); W nothing."""
    await m.admit("COOP-PB", units=OFFERED)
    bidders = {org: await m.admit(org, cash=400_000_000) for org in ("W", "X", "Y", "Z")}
    auction = (
        await announce(m, "COOP-PB", reserve="previous_close_minus_10pct", pricing="pay_as_bid")
    ).json()
    assert auction["reserve_price"] == 4500
    at(m, OPENS)
    w_bid = (await bid(m, "W", auction["id"], 5100, 30_000)).json()
    for org in ("Y", "Z"):
        assert (await bid(m, org, auction["id"], 5100, 30_000)).status_code == 201
    amended = await m.matching.put(
        f"/v1/auctions/{auction['id']}/bids/{w_bid['id']}",
        json={"price": 5100, "quantity": 20_000},
        headers=m.member("W") | {"Idempotency-Key": "amend-w"},
    )
    assert amended.status_code == 201, amended.text
    assert (await bid(m, "X", auction["id"], 5300, 60_000)).status_code == 201
    seen = (
        await m.matching.get(f"/v1/auctions/{auction['id']}/bids", headers=m.member("W"))
    ).json()
    assert [b["id"] for b in seen] == [w_bid["id"]]  # bids are sealed: W sees its own only

    result = await called(m, auction["id"])
    assert [(a["member"], a["quantity"], a["price"]) for a in result["allocations"]] == [
        ("X", 60_000, 5300),
        ("Y", 30_000, 5100),
        ("Z", 10_000, 5100),
    ]
    for allocation in result["allocations"]:
        assert (await m.closed_trade(allocation["trade_id"]))["status"] == "settled"
    await eventually(lambda: _cash_is(m, bidders["W"], 400_000_000))  # lost: all released
    await eventually(lambda: _cash_is(m, bidders["Z"], 400_000_000 - 5100 * 10_000))
    await m.verified()


async def test_an_auction_nobody_bids_in_returns_the_units(m: Market) -> None:
    seller = await m.admit("COOP-NB", units=OFFERED)
    bidder = await m.admit("ENT-NB", cash=1_000_000_000)
    auction = (await announce(m, "COOP-NB")).json()
    early = await bid(m, "ENT-NB", auction["id"], 5000, 1_000)
    assert (early.status_code, slug(early)) == (409, "market-closed")
    assert early.json()["next_opening"] == OPENS.isoformat()
    at(m, OPENS)
    cases = [
        (await bid(m, "ENT-NB", auction["id"], 4999, 1_000), "price-outside-band"),  # reserve
        (await bid(m, "ENT-NB", auction["id"], 5501, 1_000), "price-outside-band"),  # cap
        (await bid(m, "ENT-NB", auction["id"], 5000, OFFERED + 1), "quantity-over-auction"),
        (await bid(m, "COOP-NB", auction["id"], 5000, 1_000), "own-auction"),
    ]
    for response, cause in cases:
        assert (response.status_code, slug(response)) == (409, cause), response.text
    assert await m.balance(bidder) == (1_000_000_000, 0)
    placed = (await bid(m, "ENT-NB", auction["id"], 5000, 1_000)).json()
    bid_path = f"/v1/auctions/{auction['id']}/bids/{placed['id']}"
    assert (await m.matching.delete(bid_path, headers=m.member("COOP-NB"))).status_code == 404
    withdrawn = await m.matching.delete(bid_path, headers=m.member("ENT-NB"))
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    again = await m.matching.delete(bid_path, headers=m.member("ENT-NB"))
    assert (again.status_code, slug(again)) == (409, "bid-closed")
    await eventually(lambda: _cash_is(m, bidder, 1_000_000_000))  # its reservation released
    result = await called(m, auction["id"])
    assert (result["allocations"], result["unsold"]) == ([], OFFERED)
    late = await bid(m, "ENT-NB", auction["id"], 5000, 2_000)
    assert (late.status_code, slug(late)) == (409, "auction-closed")
    await eventually(lambda: _units_are(m, seller, (OFFERED, 0)))  # unsold: back to the seller
    await m.verified()


async def test_announcing_takes_a_block_and_a_valid_window(m: Market) -> None:
    await m.admit("COOP-AW", units=2 * OFFERED)
    small = await announce(m, "COOP-AW", quantity=OFFERED - 1)
    assert (small.status_code, slug(small)) == (409, "quantity-under-minimum")
    backwards = await announce(
        m, "COOP-AW", bidding_opens=CLOSES.isoformat(), bidding_closes=OPENS.isoformat()
    )
    assert (backwards.status_code, slug(backwards)) == (422, "invalid-auction-window")
    too_much = await announce(m, "COOP-AW", quantity=3 * OFFERED)
    assert (too_much.status_code, slug(too_much)) == (409, "insufficient-units")
    public = (await m.matching.get("/v1/auctions")).json()
    assert public == []


async def test_a_crash_during_the_call_leaves_nothing_and_the_call_runs_once(m: Market) -> None:
    """The call is one transaction: made to fail half way (a trigger refuses the trades), it
    leaves no allocation and no trade; after a restart it runs again, exactly once."""
    await m.admit("COOP-CR", units=OFFERED)
    bidder = await m.admit("ENT-CR", cash=1_000_000_000)
    auction = (await announce(m, "COOP-CR")).json()
    at(m, OPENS)
    assert (await bid(m, "ENT-CR", auction["id"], 5100, 60_000)).status_code == 201
    pool = m.matching_app.state.runtime.pool
    await pool.execute(
        "CREATE SEQUENCE call_attempts"  # a sequence is not rolled back: it counts attempts
    )
    await pool.execute(
        "CREATE FUNCTION refuse_trades() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " PERFORM nextval('call_attempts'); RAISE EXCEPTION 'crash in the middle of the call';"
        " END $$"
    )
    await pool.execute(
        "CREATE TRIGGER crash BEFORE INSERT ON trades FOR EACH ROW EXECUTE FUNCTION refuse_trades()"
    )
    at(m, CLOSES + timedelta(seconds=1))

    async def attempted_twice() -> bool:  # the clock's passes fail on the trigger, and retry
        return bool(await pool.fetchval("SELECT last_value FROM call_attempts") >= 2)

    await eventually(attempted_twice)
    assert await pool.fetchval("SELECT count(*) FROM trades") == 0
    result = (await m.matching.get(f"/v1/auctions/{auction['id']}/result")).json()
    assert (result["status"], result["allocations"]) == ("bidding", [])
    assert (
        await pool.fetchval("SELECT count(*) FROM events WHERE type LIKE '%AuctionAllocated%'") == 0
    )
    await pool.execute("DROP TRIGGER crash ON trades")
    await pool.execute("DROP FUNCTION refuse_trades()")
    await pool.execute("DROP SEQUENCE call_attempts")
    assert m.restart is not None
    await m.restart()
    result = await called(m, auction["id"])
    assert [(a["quantity"], a["price"]) for a in result["allocations"]] == [(60_000, 5100)]
    assert result["unsold"] == 40_000
    assert (await m.closed_trade(result["allocations"][0]["trade_id"]))["status"] == "settled"
    await eventually(lambda: _cash_is(m, bidder, 1_000_000_000 - 5100 * 60_000))
    pool = m.matching_app.state.runtime.pool
    assert await pool.fetchval("SELECT count(*) FROM trades") == 1
    await m.verified()
