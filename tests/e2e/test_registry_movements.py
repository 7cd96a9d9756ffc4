"""Transfers, retirements and holdings through the registry's HTTP API."""

from __future__ import annotations

import asyncio

import pytest

from libs.events.store import EventTransaction
from libs.servicekit.auth import Principal
from services.registry import holdings_store, movements
from services.registry.schemas import RetireCredits, TransferCredits
from services.registry.workbook import NeedsRead, Work
from tests.conftest import Platform
from tests.e2e.conftest import Slice
from tests.e2e.test_thin_slice import log_head, open_account

B2023 = "YRDPH-15-QP0007-2023-001"
B2024 = "YRDPH-15-QP0007-2024-001"


async def issue(s: Slice, account: str, vintage: int, quantity: int) -> None:
    body = {
        "program": "YRDPH",
        "project": "QP0007",
        "vintage": vintage,
        "quantity": quantity,
        "account": account,
    }
    response = await s.registry.post("/v1/issuances", json=body, headers=s.admin)
    assert response.status_code == 201, response.text


async def holdings(s: Slice, account: str) -> dict:  # type: ignore[type-arg]
    response = await s.registry.get(f"/v1/accounts/{account}/holdings", headers=s.admin)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_transfer_takes_oldest_vintage_first_and_blocks_merge_back(
    s: Slice, platform: Platform
) -> None:
    coop, buyer = await open_account(s, "COOP-QP-01"), await open_account(s, "ENT-STEEL-01")
    await issue(s, coop, 2024, 100)  # units 1..100
    await issue(s, coop, 2023, 50)  # units 101..150, older vintage
    owner = platform.token("COOP-QP-01", "account_holder")
    response = await s.registry.post(
        "/v1/transfers",
        json={"from_account": coop, "to_account": buyer, "quantity": 60},
        headers=owner,
    )
    assert response.status_code == 201, response.text
    moved = response.json()
    assert [b["serial"] for b in moved["blocks"]] == [
        f"{B2023}-000000101-000000150",
        f"{B2024}-000000001-000000010",
    ]
    mine = await holdings(s, coop)
    assert (mine["total"], mine["available"], mine["held"]) == (90, 90, 0)
    assert [b["serial"] for b in mine["blocks"]] == [f"{B2024}-000000011-000000100"]
    # The transfer as recorded (its event): either party reads it; anyone else gets 404.
    path = f"/v1/transfers/{moved['id']}"
    for reader in (owner, platform.token("ENT-STEEL-01", "account_holder"), s.admin):
        recorded = await s.registry.get(path, headers=reader)
        assert recorded.status_code == 200 and recorded.json() == moved, recorded.text
    stranger = platform.token("ENT-OTHER", "account_holder")
    assert (await s.registry.get(path, headers=stranger)).status_code == 404
    unknown = await s.registry.get("/v1/transfers/TRF-99999999", headers=s.admin)
    assert unknown.status_code == 404 and unknown.json()["type"].endswith("unknown-transfer")
    # Sending the units back makes the coop's holdings compact again: one block per batch.
    buyer_token = platform.token("ENT-STEEL-01", "account_holder")
    back = await s.registry.post(
        "/v1/transfers",
        json={"from_account": buyer, "to_account": coop, "quantity": 60},
        headers=buyer_token,
    )
    assert back.status_code == 201, back.text
    assert [b["serial"] for b in (await holdings(s, coop))["blocks"]] == [
        f"{B2023}-000000101-000000150",
        f"{B2024}-000000001-000000100",
    ]
    assert (await holdings(s, buyer))["total"] == 0


async def test_transfer_by_exact_serials_and_criteria(s: Slice) -> None:
    coop, buyer = await open_account(s), await open_account(s, "ENT-1")
    await issue(s, coop, 2024, 100)
    await issue(s, coop, 2023, 50)
    by_serial = await s.registry.post(
        "/v1/transfers",
        json={
            "from_account": coop,
            "to_account": buyer,
            "serials": [f"{B2024}-000000020-000000029"],
        },
        headers=s.admin,
    )
    assert by_serial.status_code == 201, by_serial.text
    assert by_serial.json()["quantity"] == 10
    by_vintage = await s.registry.post(
        "/v1/transfers",
        json={
            "from_account": coop,
            "to_account": buyer,
            "quantity": 5,
            "criteria": {"vintage": 2024},
        },
        headers=s.admin,
    )
    assert [b["serial"] for b in by_vintage.json()["blocks"]] == [f"{B2024}-000000001-000000005"]
    assert [b["serial"] for b in (await holdings(s, buyer))["blocks"]] == [
        f"{B2024}-000000001-000000005",
        f"{B2024}-000000020-000000029",
    ]


async def test_refusals_are_problems_and_change_nothing(s: Slice, platform: Platform) -> None:
    coop, buyer = await open_account(s, "COOP-QP-01"), await open_account(s, "ENT-1")
    await issue(s, coop, 2024, 10)
    head = await log_head(s)

    async def attempt(body: dict, token: dict[str, str] | None = None) -> tuple[int, str]:  # type: ignore[type-arg]
        response = await s.registry.post("/v1/transfers", json=body, headers=token or s.admin)
        assert response.headers["content-type"] == "application/problem+json"
        return response.status_code, response.json()["type"].rsplit(":", 1)[-1]

    base = {"from_account": coop, "to_account": buyer}
    assert await attempt(base | {"quantity": 11}) == (409, "insufficient-units")
    assert await attempt(base | {"quantity": 1, "criteria": {"vintage": 2020}}) == (
        409,
        "criteria-match-nothing",
    )
    assert await attempt(base | {"serials": ["YRDPH-15-QP0007-2024-001-1-5"]}) == (
        422,
        "malformed-serial",
    )
    assert await attempt(base | {"serials": [f"{B2024}-000000005-000000020"]}) == (
        409,
        "units-unavailable",
    )
    assert await attempt(base | {"quantity": 0}) == (422, "validation-failed")
    assert await attempt(base | {"quantity": 10**9 + 1}) == (422, "validation-failed")
    assert await attempt(base | {"quantity": 1, "serials": [f"{B2024}-000000001-000000001"]}) == (
        422,
        "validation-failed",
    )
    assert await attempt({"from_account": coop, "to_account": "ACC-404404", "quantity": 1}) == (
        404,
        "unknown-account",
    )
    assert await attempt({"from_account": coop, "to_account": coop, "quantity": 1}) == (
        422,
        "same-account",
    )
    stranger = platform.token("SOMEONE-ELSE", "account_holder")
    assert await attempt(base | {"quantity": 1}, stranger) == (404, "unknown-account")
    assert await log_head(s) == head
    assert (await holdings(s, coop))["available"] == 10


async def test_fifty_concurrent_transfers_of_the_same_units_have_one_winner(s: Slice) -> None:
    coop = await open_account(s)
    buyers = [await open_account(s, f"ENT-{i}") for i in range(5)]
    await issue(s, coop, 2024, 10)
    responses = await asyncio.gather(
        *(
            s.registry.post(
                "/v1/transfers",
                json={"from_account": coop, "to_account": buyers[i % 5], "quantity": 10},
                headers=s.admin,
            )
            for i in range(50)
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 49
    totals = [(await holdings(s, b))["total"] for b in buyers]
    assert sorted(totals) == [0, 0, 0, 0, 10]
    assert (await holdings(s, coop))["total"] == 0


async def test_retirement_is_terminal_and_has_a_bilingual_certificate(
    s: Slice, platform: Platform
) -> None:
    enterprise = await open_account(s, "ENT-STEEL-01")
    await issue(s, enterprise, 2024, 30)
    token = platform.token("ENT-STEEL-01", "account_holder")
    response = await s.registry.post(
        "/v1/retirements",
        json={
            "account": enterprise,
            "quantity": 12,
            "beneficiary": "宝山钢铁股份有限公司",
            "purpose": "compliance_offset",
            "claim_period": "2025",
        },
        headers=token,
    )
    assert response.status_code == 201, response.text
    retirement = response.json()
    assert retirement["blocks"][0]["serial"] == f"{B2024}-000000001-000000012"
    assert retirement["blocks"][0]["state"] == "retired"
    public = await s.registry.get(f"/v1/retirements/{retirement['id']}")
    assert public.status_code == 200 and public.json()["quantity"] == 12
    page = await s.registry.get(retirement["certificate_url"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for text in (
        "注销证明",
        "Retirement certificate",
        "宝山钢铁股份有限公司",
        "配额清缴抵销",
        f"{B2024}-000000001-000000012",
    ):
        assert text in page.text
    assert (await holdings(s, enterprise))["total"] == 18
    # Retired units can never move again: the account has 18 left, not 30.
    again = await s.registry.post(
        "/v1/transfers",
        json={
            "from_account": enterprise,
            "to_account": enterprise,
            "serials": [f"{B2024}-000000001-000000001"],
        },
        headers=token,
    )
    assert again.status_code == 422  # same account
    other = await open_account(s, "ENT-STEEL-01")
    moved = await s.registry.post(
        "/v1/transfers",
        json={
            "from_account": enterprise,
            "to_account": other,
            "serials": [f"{B2024}-000000001-000000001"],
        },
        headers=token,
    )
    assert moved.status_code == 409 and moved.json()["type"].endswith("units-unavailable")
    missing = await s.registry.get("/v1/retirements/RET-99999999")
    assert missing.status_code == 404


async def test_a_frozen_account_can_neither_send_nor_receive(s: Slice, platform: Platform) -> None:
    coop, buyer = await open_account(s, "COOP-QP-01"), await open_account(s, "ENT-1")
    await issue(s, coop, 2024, 20)
    regulator = platform.token("SUPERVISION-1", "regulator")
    member = platform.token("COOP-QP-01", "account_holder")
    denied = await s.registry.post(
        f"/v1/accounts/{coop}/freeze", json={"reason": "x"}, headers=member
    )
    assert denied.status_code == 403
    frozen = await s.registry.post(
        f"/v1/accounts/{buyer}/freeze", json={"reason": "调查 investigation"}, headers=regulator
    )
    assert frozen.status_code == 200 and frozen.json()["status"] == "frozen"
    again = await s.registry.post(
        f"/v1/accounts/{buyer}/freeze", json={"reason": "x"}, headers=regulator
    )
    assert again.status_code == 409
    receive = await s.registry.post(
        "/v1/transfers",
        json={"from_account": coop, "to_account": buyer, "quantity": 1},
        headers=member,
    )
    assert receive.status_code == 409 and receive.json()["type"].endswith("account-frozen")
    await s.registry.post(f"/v1/accounts/{coop}/freeze", json={"reason": "x"}, headers=regulator)
    retire = await s.registry.post(
        "/v1/retirements",
        json={"account": coop, "quantity": 1, "beneficiary": "x", "purpose": "voluntary_offset"},
        headers=member,
    )
    assert retire.status_code == 409
    for account in (coop, buyer):
        thawed = await s.registry.post(
            f"/v1/accounts/{account}/unfreeze", json={"reason": "结案 closed"}, headers=regulator
        )
        assert thawed.status_code == 200 and thawed.json()["status"] == "open"
    ok = await s.registry.post(
        "/v1/transfers",
        json={"from_account": coop, "to_account": buyer, "quantity": 1},
        headers=member,
    )
    assert ok.status_code == 201


async def test_the_buffer_share_goes_to_the_programs_buffer_account(s: Slice) -> None:
    coop = await open_account(s)
    body = {
        "program": "YRDPH",
        "project": "JS0003",
        "vintage": 2024,
        "quantity": 100,
        "account": coop,
        "buffer_quantity": 20,
    }
    response = await s.registry.post("/v1/issuances", json=body, headers=s.admin)
    assert response.status_code == 201, response.text
    blocks = response.json()["blocks"]
    assert [(b["account"], b["quantity"]) for b in blocks] == [(coop, 80), ("BUF-YRDPH", 20)]
    second = await s.registry.post("/v1/issuances", json=body, headers=s.admin)
    assert second.json()["blocks"][1]["account"] == "BUF-YRDPH"
    buffer = await holdings(s, "BUF-YRDPH")
    assert buffer["total"] == 40
    listed = (await s.registry.get("/v1/accounts", headers=s.admin)).json()["items"]
    assert [a["kind"] for a in listed if a["id"] == "BUF-YRDPH"] == ["buffer"]


async def test_the_statement_lists_every_movement_with_a_running_balance(
    s: Slice, platform: Platform
) -> None:
    coop, buyer = await open_account(s, "COOP-QP-01"), await open_account(s, "ENT-1")
    await issue(s, coop, 2024, 100)
    owner = platform.token("COOP-QP-01", "account_holder")
    await s.registry.post(
        "/v1/transfers",
        json={"from_account": coop, "to_account": buyer, "quantity": 30},
        headers=owner,
    )
    await s.registry.post(
        "/v1/holds",
        json={"account": coop, "quantity": 5, "purpose": "pledge", "holder": "BANK"},
        headers=owner,
    )
    await s.registry.post(
        "/v1/retirements",
        json={"account": coop, "quantity": 10, "beneficiary": "x", "purpose": "voluntary_offset"},
        headers=owner,
    )
    page = await s.registry.get(f"/v1/accounts/{coop}/statement?limit=2", headers=owner)
    assert page.status_code == 200, page.text
    first = page.json()
    rest = (
        await s.registry.get(
            f"/v1/accounts/{coop}/statement?cursor={first['next_cursor']}", headers=owner
        )
    ).json()
    entries = first["entries"] + rest["entries"]
    assert [(e["event"], e["change"], e["balance"]) for e in entries] == [
        ("CreditsIssued", 100, 100),
        ("CreditsTransferred", -30, 70),
        ("HoldPlaced", 0, 70),
        ("CreditsRetired", -10, 60),
    ]
    assert entries[1]["blocks"] == [f"{B2024}-000000001-000000030"]
    assert rest["next_cursor"] is None
    assert (await holdings(s, coop))["total"] == entries[-1]["balance"]
    stranger = platform.token("ENT-1", "account_holder")
    assert (
        await s.registry.get(f"/v1/accounts/{coop}/statement", headers=stranger)
    ).status_code == 404


def counted_rest_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The accounts whose rest a decision asks `Work.read` for from now on: their blocks, not
    their rows (it still reads them)."""
    rest_reads: list[str] = []
    read = Work.read

    async def counted(self: Work, tx: EventTransaction, need: NeedsRead) -> None:
        rest_reads.extend(a for a in need.blocks if a not in need.rows)
        await read(self, tx, need)

    monkeypatch.setattr(Work, "read", counted)
    return rest_reads


async def test_a_selection_past_what_was_read_up_front_reads_the_rest(
    s: Slice, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer batch reads of each account only the first blocks its hinted commands take by
    quantity; a command of the same batch that needs more (here an unhinted retirement) reads
    the rest before it selects."""
    coop, buyer = await open_account(s), await open_account(s, "ENT-1")
    for _ in range(4):
        await issue(s, coop, 2024, 5)  # four batches: four blocks of 5 units
    rest_reads = counted_rest_reads(monkeypatch)
    admin = Principal("admin", "ORG-REGISTRY", frozenset({"registry_admin"}))
    transfer = TransferCredits(from_account=coop, to_account=buyer, quantity=1)
    retirement = RetireCredits(
        account=coop, quantity=12, beneficiary="x", purpose="voluntary_offset"
    )
    writer = s.app.state.runtime.writer  # type: ignore[attr-defined]
    both = [  # queued together: one transaction, one first read (1 unit wanted from coop)
        writer.submit(
            lambda tx: movements.transfer(tx, admin, transfer),
            hint=movements.transfer_hint(transfer),
        ),
        writer.submit(lambda tx: movements.retire(tx, admin, retirement)),
    ]
    moved, retired = await asyncio.gather(*both)
    assert rest_reads == [coop]
    assert (moved["quantity"], retired["quantity"]) == (1, 12)
    assert (await holdings(s, coop))["total"] == 7
    assert (await holdings(s, buyer))["total"] == 1


@pytest.mark.parametrize(("quantity", "rest_read"), [(10, False), (12, True)])
async def test_the_first_read_looks_at_a_bounded_number_of_blocks(
    s: Slice, monkeypatch: pytest.MonkeyPatch, quantity: int, rest_read: bool
) -> None:
    """Of an account a batch takes from by quantity, the first read looks at no more than
    FIRST_BLOCKS_LIMIT blocks (here 2 of 5 units each): a selection those blocks cover needs
    nothing more, one that goes past them reads the rest — either way the units moved are the
    first in selection order."""
    monkeypatch.setattr(holdings_store, "FIRST_BLOCKS_LIMIT", 2)
    coop, buyer = await open_account(s), await open_account(s, "ENT-1")
    for _ in range(4):
        await issue(s, coop, 2024, 5)
    blocks = sorted(
        (b["batch_id"], b["start"], b["end"]) for b in (await holdings(s, coop))["blocks"]
    )
    rest_reads = counted_rest_reads(monkeypatch)
    body = {"from_account": coop, "to_account": buyer, "quantity": quantity}
    response = await s.registry.post("/v1/transfers", json=body, headers=s.admin)
    assert response.status_code == 201, response.text
    assert rest_reads == ([coop] if rest_read else [])
    moved = [(b["batch_id"], b["start"], b["end"]) for b in response.json()["blocks"]]
    whole, part = divmod(quantity, 5)
    batch, start, _ = blocks[whole]
    assert moved == blocks[:whole] + ([(batch, start, start + part - 1)] if part else [])
    assert (await holdings(s, coop))["total"] == 20 - quantity
