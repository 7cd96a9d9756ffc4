"""Every refusal of the listing agreement is a problem naming its cause, and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import Platform
from tests.e2e.matching_market import INSTRUMENT, Market, market_running


@pytest.fixture(name="m")
async def market(platform: Platform, topics: str, tmp_path: Path) -> AsyncIterator[Market]:
    async with market_running(platform, topics, tmp_path) as running_market:
        await running_market.list_instrument()
        await running_market.admit("COOP-A", units=100)
        await running_market.admit("ENT-B", cash=1_000_000)
        yield running_market


def slug(response: object) -> str:
    body = response.json()  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    return str(body["type"]).rsplit(":", 1)[-1]


async def test_refusals_of_posting_name_their_cause(m: Market) -> None:
    coop = {"org": "COOP-A"}
    cases = [
        ("COOP-A", "sell", 5000, 101, "insufficient-units"),
        ("ENT-B", "buy", 5000, 201, "insufficient-funds"),  # 1,005,000 fen > 1,000,000
        ("COOP-A", "sell", 5600, 1, "price-outside-band"),  # band 4500–5500
        ("COOP-A", "sell", 4499, 1, "price-outside-band"),
        ("COOP-A", "sell", 5000, 100_000, "quantity-over-limit"),
    ]
    for org, side, price, quantity, cause in cases:
        refused = await m.post_listing(org, side, price, quantity)
        assert refused.status_code == 409, (cause, refused.text)
        assert slug(refused) == cause
    assert await m.units(await _member(m, coop["org"])) == (100, 0)
    assert (await m.balance(await _member(m, "ENT-B")))[1] == 0
    board = (await m.matching.get(f"/v1/listings?instrument={INSTRUMENT}&side=sell")).json()
    assert board["levels"] == []


async def test_a_halted_or_closed_market_refuses(m: Market) -> None:
    halted = await m.matching.post(
        f"/v1/instruments/{INSTRUMENT}/halt", json={"reason": "review"}, headers=m.operator
    )
    assert halted.status_code == 200 and halted.json()["halted"]
    assert slug(await m.post_listing("COOP-A", "sell", 5000, 1)) == "instrument-halted"
    resumed = await m.matching.post(f"/v1/instruments/{INSTRUMENT}/resume", headers=m.operator)
    assert resumed.status_code == 200 and not resumed.json()["halted"]
    assert (await m.post_listing("COOP-A", "sell", 5000, 1)).status_code == 201
    # An instrument with the exchange's sessions, at 08:00 Shanghai time on a Monday.
    await m.list_instrument(vintage=2025, sessions=None)
    m.matching_app.state.market.clock = lambda: datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
    body = {"instrument": "YRDPH-2025", "side": "sell", "price": 5000, "quantity": 1}
    closed = await m.matching.post("/v1/listings", json=body, headers=m.member("COOP-A"))
    assert slug(closed) == "market-closed"
    m.matching_app.state.market.clock = lambda: datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 10:00
    opened = await m.matching.post("/v1/listings", json=body, headers=m.member("COOP-A"))
    assert slug(opened) == "insufficient-units"  # open now: it is the vintage that is missing


async def test_same_day_resale_is_refused(m: Market) -> None:
    listing = (await m.post_listing("COOP-A", "sell", 5000, 10)).json()
    trade = (await m.take("ENT-B", listing["id"], 5)).json()
    assert (await m.closed_trade(trade["trade_id"]))["status"] == "settled"
    resale = await m.post_listing("ENT-B", "sell", 5000, 5)
    assert resale.status_code == 409 and slug(resale) == "same-day-resale"


async def test_takes_only_from_the_best_five_levels_and_never_its_own(m: Market) -> None:
    ids = []
    for price in (5000, 5010, 5020, 5030, 5040, 5050):
        ids.append((await m.post_listing("COOP-A", "sell", price, 1)).json()["id"])
    board = (await m.matching.get(f"/v1/listings?instrument={INSTRUMENT}&side=sell")).json()
    assert [level["price"] for level in board["levels"]] == [5000, 5010, 5020, 5030, 5040]
    sixth = await m.take("ENT-B", ids[5], 1)
    assert sixth.status_code == 409 and slug(sixth) == "listing-not-in-best-five"
    assert slug(await m.take("COOP-A", ids[0], 1)) == "own-listing"
    assert slug(await m.take("ENT-B", ids[0], 2)) == "quantity-over-remaining"
    assert (await m.take("ENT-B", ids[4], 1)).status_code == 201  # fifth level: allowed
    assert (await m.balance(await _member(m, "ENT-B")))[1] in (0, 5040)  # settling or settled


async def test_only_members_trade_and_see_their_own(m: Market, platform: Platform) -> None:
    listing = (await m.post_listing("COOP-A", "sell", 5000, 1)).json()
    outsider = platform.token("ENT-NOT-ADMITTED", "member")
    body = {"instrument": INSTRUMENT, "side": "buy", "price": 5000, "quantity": 1}
    refused = await m.matching.post("/v1/listings", json=body, headers=outsider)
    assert refused.status_code == 403 and slug(refused) == "not-a-member"
    anonymous = await m.matching.post("/v1/listings", json=body)
    assert anonymous.status_code == 401
    hidden = await m.matching.get(f"/v1/listings/{listing['id']}", headers=m.member("ENT-B"))
    assert hidden.status_code == 404
    not_theirs = await m.matching.delete(f"/v1/listings/{listing['id']}", headers=m.member("ENT-B"))
    assert not_theirs.status_code == 404
    operator_only = await m.matching.post(
        "/v1/instruments",
        json={"program": "YRDPH", "vintage": 2030, "market_model": "listing", "reference_price": 1},
        headers=m.member("ENT-B"),
    )
    assert operator_only.status_code == 403


async def _member(m: Market, org: str) -> dict[str, str]:
    got = await m.matching.get(f"/v1/members/{org}", headers=m.operator)
    assert got.status_code == 200, got.text
    return got.json()  # type: ignore[no-any-return]
