"""The continuous book end to end: orders secure their legs, match at the resting price, settle
by delivery versus payment, release what they did not use; replaying the log rebuilds the book."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from libs.events.contract.matching import OrderAccepted, OrderCancelled, catalog
from services.matching.audit import verify
from services.matching.domain.book import Order, OrderBook
from tests.conftest import Platform
from tests.e2e.matching_market import INSTRUMENT, Market, market_running


@pytest.fixture(name="m")
async def market(platform: Platform, topics: str, tmp_path: Path) -> AsyncIterator[Market]:
    async with market_running(platform, topics, tmp_path) as running_market:
        await running_market.list_instrument(market_model="continuous")
        yield running_market


async def settled_and_released(m: Market, *members: dict[str, str]) -> None:
    """Every trade closed and every closed order's leftover legs released."""
    async with asyncio.timeout(20):
        while True:
            open_trades = await m.matching.get("/v1/trades?status=executed", headers=m.operator)
            reserved = [(await m.balance(x))[1] for x in members]
            if not open_trades.json()["items"] and not any(reserved):
                return
            await asyncio.sleep(0.05)


async def test_orders_match_at_the_resting_price_and_settle(m: Market) -> None:
    seller = await m.admit("COOP-C1", units=50)
    buyer = await m.admit("ENT-C1", cash=1_000_000)
    bid = await m.order("ENT-C1", "bid", side="buy", price=5100, quantity=10)
    assert bid.status_code == 201, bid.text
    assert (bid.json()["status"], bid.json()["remaining"]) == ("open", 10)
    assert await m.balance(buyer) == (1_000_000, 51_000)
    book = (await m.matching.get(f"/v1/books/{INSTRUMENT}")).json()
    assert book["bids"] == [{"price": 5100, "quantity": 10, "orders": 1}] and book["asks"] == []

    ask = await m.order("COOP-C1", "ask", side="sell", price=4900, quantity=4)
    assert ask.status_code == 201, ask.text
    assert ask.json()["status"] == "filled" and len(ask.json()["trades"]) == 1
    trade = await m.closed_trade(ask.json()["trades"][0])
    assert (trade["status"], trade["price"], trade["quantity"]) == ("settled", 5100, 4)

    cancelled = await m.matching.delete(
        f"/v1/orders/{bid.json()['id']}", headers=m.member("ENT-C1")
    )
    assert cancelled.status_code == 200 and cancelled.json()["remaining"] == 6
    await settled_and_released(m, buyer)
    assert await m.units(buyer) == (4, 0)
    assert await m.units(seller) == (46, 0)
    assert await m.balance(buyer) == (1_000_000 - 20_400, 0)
    assert await m.balance(seller) == (20_400, 0)
    quote = (await m.matching.get(f"/v1/market/{INSTRUMENT}/quote")).json()
    assert (quote["best_bid"], quote["best_ask"], quote["last"]) == (None, None, 5100)


async def test_market_ioc_fok_and_self_trade_prevention(m: Market) -> None:
    seller = await m.admit("COOP-C2", units=50, cash=100_000)  # its own bid: not from sales
    await m.admit("ENT-C2", cash=1_000_000)
    for key, price in (("a1", 5000), ("a2", 5010)):
        assert (
            await m.order("COOP-C2", key, side="sell", price=price, quantity=5)
        ).status_code == 201
    fok = await m.order("ENT-C2", "fok", side="buy", price=5010, quantity=11, time_in_force="FOK")
    assert (fok.json()["status"], fok.json()["trades"]) == ("cancelled", [])
    market_buy = await m.order("ENT-C2", "mkt", side="buy", type="market", quantity=7)
    assert market_buy.status_code == 201, market_buy.text
    assert market_buy.json()["status"] == "filled" and len(market_buy.json()["trades"]) == 2
    ioc = await m.order("ENT-C2", "ioc", side="buy", price=5010, quantity=10, time_in_force="IOC")
    assert (ioc.json()["status"], ioc.json()["remaining"]) == ("cancelled", 0)
    assert len(ioc.json()["trades"]) == 1  # the 3 t left at 5010
    # The seller bids against its own resting ask: the resting ask is cancelled, not traded.
    assert (await m.order("COOP-C2", "a3", side="sell", price=5000, quantity=5)).status_code == 201
    own = await m.order("COOP-C2", "own", side="buy", price=5000, quantity=5)
    assert (own.json()["status"], own.json()["trades"]) == ("open", [])
    book = (await m.matching.get(f"/v1/books/{INSTRUMENT}")).json()
    assert book["asks"] == [] and book["bids"] == [{"price": 5000, "quantity": 5, "orders": 1}]
    await m.matching.delete(f"/v1/orders/{own.json()['id']}", headers=m.member("COOP-C2"))
    await settled_and_released(m, seller, await _member(m, "ENT-C2"))
    assert await m.units(seller) == (40, 0)  # 10 t sold, the cancelled ask's units back
    await m.verified()


async def test_replaying_the_log_rebuilds_the_book_and_a_restart_keeps_it(m: Market) -> None:
    await m.admit("COOP-C3", units=100)
    await m.admit("COOP-C4", units=100)
    await m.admit("ENT-C3", cash=10_000_000)
    steps = [
        ("COOP-C3", "sell", 5050, 7),
        ("COOP-C4", "sell", 5050, 3),
        ("COOP-C3", "sell", 5100, 9),
        ("ENT-C3", "buy", 4900, 6),
        ("ENT-C3", "buy", 5050, 8),  # fills 7 of COOP-C3, 1 of COOP-C4
        ("COOP-C4", "sell", 4900, 2),  # fills the 4900 bid partly
        ("ENT-C3", "buy", 4950, 5),
    ]
    for n, (org, side, price, quantity) in enumerate(steps):
        placed = await m.order(org, f"s{n}", side=side, price=price, quantity=quantity)
        assert placed.status_code == 201, placed.text
    # The same key again answers with the order placed at step 2: its id, to cancel it.
    third = (await m.order("COOP-C3", "s2", side="sell", price=5100, quantity=9)).json()["id"]
    await m.matching.delete(f"/v1/orders/{third}", headers=m.member("COOP-C3"))
    live = (await m.matching.get(f"/v1/books/{INSTRUMENT}")).json()
    assert live["asks"] == [{"price": 5050, "quantity": 2, "orders": 1}]
    assert live["bids"] == [
        {"price": 4950, "quantity": 5, "orders": 1},
        {"price": 4900, "quantity": 4, "orders": 1},
    ]
    store = m.matching_app.state.runtime.store
    replayed, accepted = OrderBook(), {}
    for envelope in await store.read_after(0, 10_000):
        event = catalog.decode(envelope.type, envelope.data)
        if isinstance(event, OrderAccepted):
            accepted[event.order_id] = event
            replayed.submit(
                Order(
                    event.order_id,
                    event.member,
                    event.side,
                    event.quantity,
                    event.type,
                    event.price,
                    event.time_in_force,
                )
            )
        elif isinstance(event, OrderCancelled) and event.reason == "cancelled":
            order = accepted[event.order_id]
            replayed.cancel(order.side, order.price, event.order_id)
    resting = [
        (r.id, r.price, r.remaining) for side in ("buy", "sell") for r in replayed.resting(side)
    ]
    rows = await m.matching_app.state.runtime.pool.fetch(
        "SELECT id, price, remaining, side FROM orders WHERE status = 'open'"
    )
    assert sorted(resting) == sorted((r["id"], r["price"], r["remaining"]) for r in rows)

    assert m.restart is not None
    await m.restart()  # a new process: its book is rebuilt from the open orders
    hit = await m.order("ENT-C3", "after", side="buy", price=5050, quantity=2)
    assert len(hit.json()["trades"]) == 1 and hit.json()["status"] == "filled"
    assert (await m.matching.get(f"/v1/books/{INSTRUMENT}")).json()["asks"] == []


async def _member(m: Market, org: str) -> dict[str, str]:
    return (await m.matching.get(f"/v1/members/{org}", headers=m.operator)).json()  # type: ignore[no-any-return]


async def test_verify_reports_a_table_that_the_log_does_not_explain(m: Market) -> None:
    await m.admit("COOP-C5", units=10)
    await m.admit("ENT-C5", cash=100_000)
    await m.order("COOP-C5", "a", side="sell", price=5000, quantity=5)
    trade = (await m.order("ENT-C5", "b", side="buy", price=5000, quantity=2)).json()["trades"][0]
    await m.closed_trade(trade)
    await m.verified()
    pool = m.matching_app.state.runtime.pool
    await pool.execute("UPDATE orders SET remaining = remaining + 1 WHERE status = 'open'")
    report = await verify(pool)
    assert (report.ok, report.differing) == (False, ["orders"])
