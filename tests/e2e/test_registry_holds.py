"""Holds through the registry's HTTP API: escrow, pledge, freeze, release, execute, expiry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from services.registry.app import create_app
from services.registry.rebuild import rebuild
from tests.conftest import Platform, running
from tests.e2e.conftest import Slice
from tests.e2e.test_registry_movements import B2024, holdings, issue
from tests.e2e.test_thin_slice import open_account


@pytest.fixture(name="r")
async def registry_only(platform: Platform, topics: str) -> AsyncIterator[Slice]:
    settings = await platform.settings(
        "registry", topics, relay_enabled=False, hold_sweep_seconds=0.2
    )
    app = create_app(settings)  # type: ignore[arg-type]
    async with running(app) as client:
        yield Slice(client, client, platform.token("ORG-REGISTRY", "registry_admin"), app)


async def test_escrow_is_released_only_by_its_market(r: Slice, platform: Platform) -> None:
    coop = await open_account(r, "COOP-QP-01")
    await issue(r, coop, 2024, 100)
    owner, market = (
        platform.token("COOP-QP-01", "account_holder"),
        platform.token("SEEE", "market_operator"),
    )
    placed = await r.registry.post(
        "/v1/holds",
        json={"account": coop, "quantity": 30, "purpose": "escrow", "holder": "SEEE"},
        headers=owner,
    )
    assert placed.status_code == 201, placed.text
    hold = placed.json()
    assert (
        hold["blocks"][0]["serial"] == f"{B2024}-000000001-000000030"
        and hold["blocks"][0]["state"] == "held"
    )
    mine = await holdings(r, coop)
    assert (mine["total"], mine["available"], mine["held"]) == (100, 70, 30)
    assert [b["hold_id"] for b in mine["blocks"]] == [hold["id"], None]
    # Held units cannot move except by their hold.
    buyer = await open_account(r, "ENT-1")
    transfer = await r.registry.post(
        "/v1/transfers",
        json={"from_account": coop, "to_account": buyer, "quantity": 80},
        headers=owner,
    )
    assert transfer.status_code == 409
    for stranger in (owner, platform.token("OTHER-MARKET", "market_operator")):
        denied = await r.registry.post(f"/v1/holds/{hold['id']}/release", headers=stranger)
        assert denied.status_code == 404 and denied.json()["type"].endswith("unknown-hold")
    released = await r.registry.post(f"/v1/holds/{hold['id']}/release", headers=market)
    assert released.status_code == 200 and released.json()["status"] == "released"
    assert (await holdings(r, coop))["blocks"] == [
        {
            "serial": f"{B2024}-000000001-000000100",
            "batch_id": B2024,
            "start": 1,
            "end": 100,
            "quantity": 100,
            "vintage": 2024,
            "state": "available",
            "hold_id": None,
        }
    ]
    again = await r.registry.post(f"/v1/holds/{hold['id']}/release", headers=market)
    assert again.status_code == 409 and again.json()["type"].endswith("hold-not-active")


async def test_a_pledge_is_executed_in_parts_to_the_lender(r: Slice, platform: Platform) -> None:
    coop, bank = await open_account(r, "COOP-WJ-02"), await open_account(r, "BANK-AGRI")
    await issue(r, coop, 2024, 50)
    owner, lender = (
        platform.token("COOP-WJ-02", "account_holder"),
        platform.token("BANK-AGRI", "member"),
    )
    hold = (
        await r.registry.post(
            "/v1/holds",
            json={"account": coop, "quantity": 40, "purpose": "pledge", "holder": "BANK-AGRI"},
            headers=owner,
        )
    ).json()
    part = await r.registry.post(
        f"/v1/holds/{hold['id']}/execute", json={"to_account": bank, "quantity": 15}, headers=lender
    )
    assert part.status_code == 200, part.text
    assert part.json()["status"] == "active"
    assert part.json()["blocks"][0]["serial"] == f"{B2024}-000000001-000000015"
    too_much = await r.registry.post(
        f"/v1/holds/{hold['id']}/execute", json={"to_account": bank, "quantity": 26}, headers=lender
    )
    assert too_much.status_code == 409
    rest = await r.registry.post(
        f"/v1/holds/{hold['id']}/execute", json={"to_account": bank}, headers=lender
    )
    assert rest.json()["status"] == "executed"
    assert (await holdings(r, bank))["total"] == 40
    assert (await holdings(r, coop))["available"] == 10


async def test_only_a_regulator_freezes_units(r: Slice, platform: Platform) -> None:
    coop = await open_account(r, "COOP-JS-03")
    await issue(r, coop, 2024, 20)
    body = {"account": coop, "quantity": 5, "purpose": "freeze", "holder": "SUPERVISION"}
    owner = platform.token("COOP-JS-03", "account_holder")
    assert (await r.registry.post("/v1/holds", json=body, headers=owner)).status_code == 403
    regulator = platform.token("SUPERVISION", "regulator")
    frozen = await r.registry.post("/v1/holds", json=body, headers=regulator)
    assert frozen.status_code == 201
    assert (await holdings(r, coop))["held"] == 5


async def test_units_bought_today_cannot_be_escrowed_today(r: Slice, platform: Platform) -> None:
    seller, buyer = await open_account(r, "COOP-1"), await open_account(r, "ENT-2")
    await issue(r, seller, 2024, 20)
    await issue(r, buyer, 2024, 5)  # units the buyer held before today's trade
    market = platform.token("SEEE", "market_operator")
    hold = (
        await r.registry.post(
            "/v1/holds",
            json={"account": seller, "quantity": 10, "purpose": "escrow", "holder": "SEEE"},
            headers=platform.token("COOP-1", "account_holder"),
        )
    ).json()
    settled = await r.registry.post(
        f"/v1/holds/{hold['id']}/execute", json={"to_account": buyer}, headers=market
    )
    assert settled.status_code == 200
    buyer_token = platform.token("ENT-2", "account_holder")
    resale = await r.registry.post(
        "/v1/holds",
        json={"account": buyer, "quantity": 6, "purpose": "escrow", "holder": "SEEE"},
        headers=buyer_token,
    )
    assert resale.status_code == 409 and resale.json()["type"].endswith("same-day-resale")
    older = await r.registry.post(
        "/v1/holds",
        json={"account": buyer, "quantity": 5, "purpose": "escrow", "holder": "SEEE"},
        headers=buyer_token,
    )
    assert older.status_code == 201
    assert older.json()["blocks"][0]["serial"] == "YRDPH-15-QP0007-2024-002-000000021-000000025"


async def test_delivery_under_hold_is_final_only_when_the_market_says_so(
    r: Slice, platform: Platform
) -> None:
    """DvP: units reach the buyer still held by the market; the market then makes them the
    buyer's (a purchase: dated today) or returns them to the seller (no purchase: the seller
    may offer them again today)."""
    seller, buyer = await open_account(r, "COOP-1"), await open_account(r, "ENT-2")
    await issue(r, seller, 2024, 20)
    market = platform.token("SEEE", "market_operator")
    seller_token = platform.token("COOP-1", "account_holder")

    async def escrow(quantity: int) -> dict[str, object]:
        placed = await r.registry.post(
            "/v1/holds",
            json={"account": seller, "quantity": quantity, "purpose": "escrow", "holder": "SEEE"},
            headers=seller_token,
        )
        assert placed.status_code == 201, placed.text
        return placed.json()  # type: ignore[no-any-return]

    async def execute(hold_id: object, to: str, keep_held: bool = False) -> dict[str, object]:
        done = await r.registry.post(
            f"/v1/holds/{hold_id}/execute",
            json={"to_account": to, "keep_held": keep_held},
            headers=market,
        )
        assert done.status_code == 200, done.text
        return done.json()  # type: ignore[no-any-return]

    first = await execute((await escrow(6))["id"], buyer, keep_held=True)
    in_transit = first["delivered_hold_id"]
    assert first["status"] == "executed" and isinstance(in_transit, str)
    buyer_view = await holdings(r, buyer)
    assert (buyer_view["available"], buyer_view["held"]) == (0, 6)
    moved = await r.registry.post(
        "/v1/transfers",
        json={"from_account": buyer, "to_account": seller, "quantity": 1},
        headers=platform.token("ENT-2", "account_holder"),
    )
    assert moved.status_code == 409  # held units are not the buyer's to move yet
    await execute(in_transit, seller)  # the trade failed: back to the seller, not a purchase
    again = await escrow(20)  # …so the seller may escrow all 20 again today
    second = await execute(again["id"], buyer, keep_held=True)
    final = await execute(second["delivered_hold_id"], buyer)  # the cash is final
    assert final["status"] == "executed"
    buyer_view = await holdings(r, buyer)
    assert (buyer_view["available"], buyer_view["held"]) == (20, 0)
    resale = await r.registry.post(
        "/v1/holds",
        json={"account": buyer, "quantity": 1, "purpose": "escrow", "holder": "SEEE"},
        headers=platform.token("ENT-2", "account_holder"),
    )
    assert resale.json()["type"].endswith("same-day-resale")  # bought today


async def test_a_holder_finds_its_holds_by_reference(r: Slice, platform: Platform) -> None:
    seller = await open_account(r, "COOP-9")
    await issue(r, seller, 2024, 10)
    placed = await r.registry.post(
        "/v1/holds",
        json={
            "account": seller,
            "quantity": 4,
            "purpose": "escrow",
            "holder": "SEEE",
            "reference": "LST-42",
        },
        headers=platform.token("COOP-9", "account_holder"),
    )
    assert placed.status_code == 201 and placed.json()["reference"] == "LST-42"
    market = platform.token("SEEE", "market_operator")
    found = (await r.registry.get("/v1/holds?reference=LST-42", headers=market)).json()
    assert [(h["id"], h["status"], h["quantity"]) for h in found] == [
        (placed.json()["id"], "active", 4)
    ]
    other = platform.token("OTHER-MARKET", "market_operator")
    assert (await r.registry.get("/v1/holds?reference=LST-42", headers=other)).json() == []
    assert (await r.registry.get("/v1/holds?reference=LST-42")).status_code == 401


async def test_an_expired_hold_releases_itself(r: Slice, platform: Platform) -> None:
    coop = await open_account(r, "COOP-9")
    await issue(r, coop, 2024, 10)
    expires = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    hold = (
        await r.registry.post(
            "/v1/holds",
            json={
                "account": coop,
                "quantity": 10,
                "purpose": "pledge",
                "holder": "BANK",
                "expires_at": expires,
            },
            headers=platform.token("COOP-9", "account_holder"),
        )
    ).json()
    assert (await holdings(r, coop))["held"] == 10
    for _ in range(50):
        await asyncio.sleep(0.1)
        if (await holdings(r, coop))["available"] == 10:
            break
    assert (await holdings(r, coop))["available"] == 10
    late = await r.registry.post(
        f"/v1/holds/{hold['id']}/execute",
        json={"to_account": coop},
        headers=platform.token("BANK", "member"),
    )
    assert late.status_code == 409


async def test_serial_lookup_shows_owner_state_and_every_event_and_supply_adds_up(
    r: Slice, platform: Platform
) -> None:
    coop, buyer = await open_account(r, "COOP-QP-01"), await open_account(r, "ENT-1")
    await issue(r, coop, 2024, 100)
    owner = platform.token("COOP-QP-01", "account_holder")
    await r.registry.post(
        "/v1/transfers",
        json={"from_account": coop, "to_account": buyer, "quantity": 30},
        headers=owner,
    )
    await r.registry.post(
        "/v1/retirements",
        json={"account": buyer, "quantity": 10, "beneficiary": "x", "purpose": "voluntary_offset"},
        headers=platform.token("ENT-1", "account_holder"),
    )
    await r.registry.post(
        "/v1/holds",
        json={"account": coop, "quantity": 5, "purpose": "escrow", "holder": "SEEE"},
        headers=owner,
    )
    unit = await r.registry.get(f"/v1/serials/{B2024}-000000005", headers=r.admin)
    assert unit.status_code == 200, unit.text
    view = unit.json()
    assert [(b["serial"], b["account"], b["state"]) for b in view["blocks"]] == [
        (f"{B2024}-000000001-000000010", None, "retired")
    ]
    assert [e["type"].split(".")[2] for e in view["events"]] == [
        "CreditsIssued",
        "CreditsTransferred",
        "CreditsRetired",
    ]
    later = await r.registry.get(f"/v1/serials/{B2024}-000000031-000000040", headers=r.admin)
    assert [(b["state"], b["account"]) for b in later.json()["blocks"]] == [
        ("held", coop),
        ("available", coop),
    ]
    # Owners see their own units; others get 404, never the owner's id.
    assert (
        await r.registry.get(f"/v1/serials/{B2024}-000000050", headers=owner)
    ).status_code == 200
    stranger = platform.token("ENT-1", "account_holder")
    assert (
        await r.registry.get(f"/v1/serials/{B2024}-000000050", headers=stranger)
    ).status_code == 404
    # A holder of part of a range is shown its part (units 11–30: 1–10 are retired).
    part = await r.registry.get(f"/v1/serials/{B2024}-000000001-000000050", headers=stranger)
    assert part.status_code == 200, part.text
    assert [(b["serial"], b["state"]) for b in part.json()["blocks"]] == [
        (f"{B2024}-000000011-000000030", "available")
    ]
    assert [e["type"].split(".")[2] for e in part.json()["events"]] == [
        "CreditsIssued",
        "CreditsTransferred",
    ]
    assert (await r.registry.get("/v1/serials/not-a-serial", headers=r.admin)).status_code == 422
    supply = (await r.registry.get(f"/v1/batches/{B2024}/supply", headers=r.admin)).json()
    assert (
        supply["issued"],
        supply["available"],
        supply["held"],
        supply["retired"],
        supply["cancelled"],
    ) == (100, 85, 5, 10, 0)
    assert (
        supply["issued"]
        == supply["available"] + supply["held"] + supply["retired"] + supply["cancelled"]
    )


async def test_ccer_bridge_in_never_imports_an_external_unit_twice(
    r: Slice, platform: Platform
) -> None:
    holder = await open_account(r, "ENT-CCER")
    body = {
        "source": "CCER-national",
        "external_start": "CCER-2024-000101",
        "external_end": "CCER-2024-000250",
        "project": "WJ0011",
        "vintage": 2024,
        "account": holder,
    }
    first = await r.registry.post("/v1/imports", json=body, headers=r.admin)
    assert first.status_code == 201, first.text
    assert first.json()["blocks"][0]["serial"] == "CCER-15-WJ0011-2024-001-000000001-000000150"
    overlap = await r.registry.post(
        "/v1/imports",
        json=body | {"external_start": "CCER-2024-000250", "external_end": "CCER-2024-000300"},
        headers=r.admin,
    )
    assert overlap.status_code == 409 and overlap.json()["type"].endswith("import-overlaps")
    next_range = await r.registry.post(
        "/v1/imports",
        json=body | {"external_start": "CCER-2024-000251", "external_end": "CCER-2024-000260"},
        headers=r.admin,
    )
    assert next_range.json()["blocks"][0]["serial"] == "CCER-15-WJ0011-2024-002-000000151-000000160"
    other_source = await r.registry.post(
        "/v1/imports", json=body | {"source": "another-registry"}, headers=r.admin
    )
    assert other_source.status_code == 201
    backwards = await r.registry.post(
        "/v1/imports",
        json=body | {"external_start": "CCER-2024-000900", "external_end": "CCER-2024-000800"},
        headers=r.admin,
    )
    assert backwards.status_code == 422
    member = platform.token("ENT-CCER", "account_holder")
    assert (await r.registry.post("/v1/imports", json=body, headers=member)).status_code == 403
    assert (await holdings(r, holder))["total"] == 150 + 10 + 150


async def test_cancellation_is_terminal_and_admin_only(r: Slice, platform: Platform) -> None:
    coop = await open_account(r, "COOP-X")
    await issue(r, coop, 2024, 50)
    body = {
        "account": coop,
        "quantity": 20,
        "reason": "correction",
        "note": "double-counted parcel",
    }
    denied = await r.registry.post(
        "/v1/cancellations", json=body, headers=platform.token("COOP-X", "account_holder")
    )
    assert denied.status_code == 403
    cancelled = await r.registry.post("/v1/cancellations", json=body, headers=r.admin)
    assert cancelled.status_code == 201, cancelled.text
    assert cancelled.json()["blocks"][0]["state"] == "cancelled"
    supply = (await r.registry.get(f"/v1/batches/{B2024}/supply", headers=r.admin)).json()
    assert (supply["issued"], supply["available"], supply["cancelled"]) == (50, 30, 20)
    unit = (await r.registry.get(f"/v1/serials/{B2024}-000000001", headers=r.admin)).json()
    assert unit["blocks"][0]["state"] == "cancelled"
    assert unit["events"][-1]["type"] == "tanhui.registry.CreditsCancelled.v1"


async def test_a_pledge_records_its_loan_and_its_units_refuse_every_movement(
    r: Slice, platform: Platform
) -> None:
    coop, bank = await open_account(r, "COOP-QP-09"), await open_account(r, "BANK-RURAL")
    await issue(r, coop, 2024, 30)
    owner = platform.token("COOP-QP-09", "account_holder")
    terms = {
        "registration_ref": "中登 2026-1207-0001",
        "loan_amount": 150_000_00,
        "matures_on": "2027-12-07",
    }
    body = {"account": coop, "quantity": 30, "purpose": "pledge", "holder": "BANK-RURAL"}
    refused = await r.registry.post(
        "/v1/holds", json=body | {"purpose": "escrow", "pledge": terms}, headers=owner
    )
    assert refused.status_code == 422  # loan terms belong to a pledge
    placed = await r.registry.post("/v1/holds", json=body | {"pledge": terms}, headers=owner)
    assert placed.status_code == 201, placed.text
    assert placed.json()["pledge"] == terms
    # Pledged units can be neither transferred, retired nor escrowed for sale.
    moves = [
        ("/v1/transfers", {"from_account": coop, "to_account": bank, "quantity": 1}),
        (
            "/v1/retirements",
            {"account": coop, "quantity": 1, "beneficiary": "x", "purpose": "voluntary_offset"},
        ),
        ("/v1/holds", {"account": coop, "quantity": 1, "purpose": "escrow", "holder": "SEEE"}),
    ]
    for path, move in moves:
        answer = await r.registry.post(path, json=move, headers=owner)
        assert answer.status_code == 409, (path, answer.text)
    assert (await holdings(r, coop))["held"] == 30
    lender = platform.token("BANK-RURAL", "member")
    enforced = await r.registry.post(
        f"/v1/holds/{placed.json()['id']}/execute", json={"to_account": bank}, headers=lender
    )
    assert enforced.status_code == 200 and enforced.json()["pledge"] == terms
    assert (await holdings(r, bank))["total"] == 30
    report = await rebuild(r.app.state.runtime.store, dry_run=True)  # type: ignore[attr-defined]
    assert report.ok, report.differing
