"""The listing agreement end to end: the real registry, the settlement simulator and matching."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.matching import legs, store
from services.matching.market import derived_id
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
    keyed = m.member("ENT-2") | {"Idempotency-Key": "withdraw-bid"}
    path = f"/v1/listings/{posted.json()['id']}"
    withdrawn = await m.matching.delete(path, headers=keyed)
    assert withdrawn.status_code == 200, withdrawn.text
    again = await m.matching.delete(path, headers=keyed)  # a retry: the same answer
    assert again.status_code == 200 and again.headers.get("idempotent-replayed") == "true"
    assert again.json() == withdrawn.json()
    for _ in range(100):  # the settlement process releases the rest of the reservation
        if (await m.balance(buyer))[1] == 0:
            break
        await asyncio.sleep(0.05)
    assert await m.balance(buyer) == (100_000 - 24_500, 0)
    await m.verified()


async def test_fifty_concurrent_takes_never_overfill_a_listing(m: Market) -> None:
    await m.list_instrument()
    seller = await m.admit("COOP-3", units=30)
    buyers = [await m.admit(f"ENT-{n:02d}", cash=50_000) for n in range(50)]
    listing = (await m.post_listing("COOP-3", "sell", 5000, 30, key="p")).json()
    answers = await asyncio.gather(
        *(m.take(b["org"], listing["id"], 1 + n % 2, key=f"t{n}") for n, b in enumerate(buyers))
    )
    filled = [a.json() for a in answers if a.status_code == 201]
    refused = [a.json() for a in answers if a.status_code != 201]
    assert sum(t["quantity"] for t in filled) <= 30
    assert all(r["status"] == 409 for r in refused), refused[:3]
    assert {r["type"].rsplit(":", 1)[-1] for r in refused} <= {
        "quantity-over-remaining",
        "listing-closed",
    }
    for trade in filled:
        assert (await m.closed_trade(trade["trade_id"]))["status"] == "settled"
    sold = sum(t["quantity"] for t in filled)
    assert sold >= 29  # one lot of 2 may not fit the last unit
    assert await m.units(seller) == (0, 30 - sold)
    balances = [await m.balance(b) for b in buyers]
    assert all(reserved == 0 for _, reserved in balances)  # refused takers got theirs back
    assert sum(50_000 - balance for balance, _ in balances) == sold * 5000
    await m.verified()


@pytest.mark.parametrize(
    ("case", "failed_leg"),
    [
        ("registry-refuses", "units"),
        ("settlement-refuses", "cash"),
        ("settlement-times-out", "cash"),
    ],
)
async def test_a_failed_leg_leaves_units_and_cash_where_they_were(
    m: Market, case: str, failed_leg: str
) -> None:
    await m.list_instrument()
    seller = await m.admit("COOP-4", units=10)
    buyer = await m.admit("ENT-4", cash=100_000)
    listing = (await m.post_listing("COOP-4", "sell", 5000, 10, key="p")).json()
    if case == "registry-refuses":  # the buyer's registry account is frozen after the take
        frozen = m.registry_slice
        account = buyer["registry_account"]
    if case == "settlement-refuses":
        await m.faults({"operation": "settle", "mode": "refuse"})
    if case == "settlement-times-out":  # longer than matching waits (2 s in these tests)
        await m.faults({"operation": "settle", "mode": "delay", "seconds": 3})
    if case == "registry-refuses":
        done = await frozen.registry.post(
            f"/v1/accounts/{account}/freeze", json={"reason": "test"}, headers=frozen.admin
        )
        assert done.status_code == 200, done.text
    trade = (await m.take("ENT-4", listing["id"], 4, key="t")).json()
    closed = await m.closed_trade(trade["trade_id"])
    assert (closed["status"], closed["failed_leg"]) == ("failed", failed_leg), closed
    failed = (await m.matching.get("/v1/trades?status=failed", headers=m.operator)).json()
    assert [t["trade_id"] for t in failed["items"]] == [trade["trade_id"]]
    await asyncio.sleep(3.5 if case == "settlement-times-out" else 0)  # the late call lands
    assert await m.balance(buyer) == (100_000, 0)
    assert await m.balance(seller) == (0, 0)
    if case == "registry-refuses":
        await frozen.registry.post(f"/v1/accounts/{account}/unfreeze", headers=frozen.admin)
    assert await m.units(buyer) == (0, 0)
    left = (
        await m.matching.get(f"/v1/listings/{listing['id']}", headers=m.member("COOP-4"))
    ).json()
    if failed_leg == "units":  # still escrowed: the listing offers them again
        assert await m.units(seller) == (0, 10)
        assert (left["status"], left["remaining"]) == ("open", 10)
    else:  # back in the seller's account, off the listing
        assert await m.units(seller) == (4, 6)
        assert (left["status"], left["remaining"]) == ("open", 6)
    daily = (await m.matching.get(f"/v1/market/{INSTRUMENT}/daily")).json()["days"]
    assert daily == []  # a failed trade never happened
    await m.verified()


async def test_a_crash_between_legs_delivers_and_pays_exactly_once(m: Market) -> None:
    await m.list_instrument()
    seller = await m.admit("COOP-5", units=10)
    buyer = await m.admit("ENT-5", cash=100_000)
    listing = (await m.post_listing("COOP-5", "sell", 5000, 10, key="p")).json()
    # The cash leg answers after 1.5 s: matching is stopped while it waits (units delivered
    # under the market's hold, the payment under way), then started again.
    await m.faults({"operation": "settle", "mode": "delay", "seconds": 1.5})
    trade = (await m.take("ENT-5", listing["id"], 4, key="t")).json()
    async with asyncio.timeout(10):
        while await m.units(buyer) != (0, 4):
            await asyncio.sleep(0.02)
    assert m.restart is not None
    await m.restart()
    await m.faults()
    closed = await m.closed_trade(trade["trade_id"])
    assert closed["status"] == "settled", closed
    assert await m.units(buyer) == (4, 0)
    assert await m.units(seller) == (0, 6)
    assert await m.balance(buyer) == (100_000 - 20_000, 0)
    assert await m.balance(seller) == (20_000, 0)


async def test_trades_settle_in_batches_and_a_refused_leg_fails_only_its_trade(m: Market) -> None:
    """Trades executed while a batch settles settle together in the next one (one bulk
    request per registry step); the registry refusing one trade's delivery fails that trade
    alone."""
    await m.list_instrument()
    seller = await m.admit("COOP-6", units=8)
    buyers = [await m.admit(f"ENT-6{n}", cash=100_000) for n in range(4)]
    listing = (await m.post_listing("COOP-6", "sell", 5000, 8, key="p")).json()
    await m.faults({"operation": "settle", "mode": "delay", "seconds": 1.0})
    first = (await m.take("ENT-60", listing["id"], 2, key="t0")).json()
    async with asyncio.timeout(10):  # the first batch is under way: its cash leg waits
        while await m.units(buyers[0]) != (0, 2):
            await asyncio.sleep(0.02)
    trades = [(await m.take(f"ENT-6{n}", listing["id"], 2, key=f"t{n}")).json() for n in (1, 2, 3)]
    frozen = buyers[3]["registry_account"]
    done = await m.registry.post(
        f"/v1/accounts/{frozen}/freeze", json={"reason": "test"}, headers=m.registry_slice.admin
    )
    assert done.status_code == 200, done.text
    closed = [await m.closed_trade(t["trade_id"]) for t in [first, *trades]]
    assert [c["status"] for c in closed] == ["settled", "settled", "settled", "failed"]
    assert closed[3]["failed_leg"] == "units"
    pool = m.matching_app.state.runtime.pool
    batches = await pool.fetch("SELECT id, batch_id FROM trades ORDER BY sequence")
    assert [b["batch_id"] for b in batches] == [f"SB-{first['trade_id']}"] + [
        f"SB-{trades[0]['trade_id']}"
    ] * 3
    assert [await m.units(b) for b in buyers] == [(2, 0), (2, 0), (2, 0), (0, 0)]
    assert await m.units(seller) == (0, 2)  # the failed trade's units: escrowed, listed again
    assert [(await m.balance(b))[0] for b in buyers] == [90_000, 90_000, 90_000, 100_000]
    await m.verified()


async def test_legs_of_requests_that_never_committed_are_released(
    platform: Platform, topics: str, tmp_path: Path
) -> None:
    """A crash between securing a leg and recording its listing (or a client that gives up)
    leaves an escrow or a reservation nothing uses: the sweep releases it, and the same key
    is then refused rather than trading on a released leg."""
    async with market_running(platform, topics, tmp_path, abandoned_leg_seconds=0.5) as m:
        await m.list_instrument()
        seller = await m.admit("COOP-6", units=10)
        buyer = await m.admit("ENT-6", cash=100_000)
        app = m.matching_app
        market, pool = app.state.market, app.state.runtime.pool
        instrument = await store.get_instrument(pool, INSTRUMENT)
        for org, side, member in (("COOP-6", "sell", seller), ("ENT-6", "buy", buyer)):
            owner = derived_id("LST", org, f"lost-{side}")
            authorization = m.member(org)["Authorization"]
            await legs.secure(
                market,
                pool,
                authorization,
                member | {"org": org},
                instrument,
                side,
                4,
                20_000,
                owner,
            )
        assert await m.units(seller) == (6, 4)
        assert await m.balance(buyer) == (100_000, 20_000)
        async with asyncio.timeout(20):
            while await m.units(seller) != (10, 0) or await m.balance(buyer) != (100_000, 0):
                await asyncio.sleep(0.1)
        assert await pool.fetchval("SELECT count(*) FROM pending_legs") == 0
        for org, side in (("COOP-6", "sell"), ("ENT-6", "buy")):
            again = await m.post_listing(org, side, 5000, 4, key=f"lost-{side}")
            assert again.status_code == 409, again.text
            assert again.json()["type"].endswith("key-spent")
        posted = await m.post_listing("COOP-6", "sell", 5000, 4, key="fresh")
        assert posted.status_code == 201
        await asyncio.sleep(1.5)  # a recorded listing's leg is never swept
        assert await m.units(seller) == (6, 4)
