"""Issuances, retirements and supply totals reach the public from the registry's topic."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from libs.servicekit.database import asyncpg_dsn
from services.disclosure import rebuild
from services.disclosure.rebuild import READ_MODELS, compare
from tests.conftest import Platform
from tests.e2e.conftest import Slice
from tests.e2e.test_registry_movements import issue
from tests.e2e.test_thin_slice import open_account


async def eventually(s: Slice, path: str, done: Any) -> Any:
    async with asyncio.timeout(30):
        while True:
            got = await s.disclosure.get(path)
            if got.status_code == 200 and done(got.json()):
                return got.json()
            await asyncio.sleep(0.2)


async def test_retirements_and_totals_are_public(s: Slice, platform: Platform) -> None:
    coop = await open_account(s, "COOP-QP-01")
    await issue(s, coop, 2024, 100)
    await issue(s, coop, 2023, 50)
    owner = platform.token("COOP-QP-01", "account_holder")
    retired = await s.registry.post(
        "/v1/retirements",
        json={
            "account": coop,
            "quantity": 60,  # 50 of vintage 2023 first, then 10 of 2024
            "beneficiary": "上海某钢铁企业 Shanghai Steel",
            "purpose": "voluntary_offset",
            "claim_period": "2025",
        },
        headers=owner,
    )
    assert retired.status_code == 201, retired.text
    cancelled = await s.registry.post(
        "/v1/cancellations",
        json={"account": coop, "quantity": 5, "reason": "correction"},
        headers=s.admin,
    )
    assert cancelled.status_code == 201, cancelled.text

    # The owner is joined when read: until the account's opening is consumed (another stream,
    # maybe another partition, so possibly later) the retirement shows its account id.
    page = await eventually(
        s,
        "/v1/public/retirements",
        lambda p: len(p["items"]) == 1 and p["items"][0]["owner"] != p["items"][0]["account"],
    )
    item = page["items"][0]
    assert (item["owner"], item["quantity"], item["purpose"]) == (
        "COOP-QP-01",
        60,
        "voluntary_offset",
    )
    assert sum(b["quantity"] for b in item["blocks"]) == 60
    assert item["blocks"][0]["serial"].startswith("YRDPH-15-QP0007-2023-")
    one = await s.disclosure.get(f"/v1/public/retirements/{item['id']}")
    assert one.status_code == 200 and one.json() == item
    found = await s.disclosure.get("/v1/public/retirements?beneficiary=steel")
    assert [r["id"] for r in found.json()["items"]] == [item["id"]]
    assert (await s.disclosure.get("/v1/public/retirements?purpose=compliance_offset")).json()[
        "items"
    ] == []
    assert (await s.disclosure.get("/v1/public/retirements/RET-NONE")).status_code == 404
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    span = {"retired_from": today.isoformat(), "retired_to": today.isoformat()}
    assert len((await s.disclosure.get("/v1/public/retirements", params=span)).json()["items"]) == 1
    earlier = {"retired_to": (today - timedelta(days=1)).isoformat()}
    assert (await s.disclosure.get("/v1/public/retirements", params=earlier)).json()["items"] == []

    # Streams arrive in any order: wait for the whole picture, not just its last event.
    totals = await eventually(
        s,
        "/v1/public/totals?by=vintage",
        lambda t: (t["overall"]["issued"], t["overall"]["cancelled"]) == (150, 5),
    )
    assert totals["overall"] == {
        "key": "all",
        "issued": 150,
        "retired": 60,
        "cancelled": 5,
        "outstanding": 85,
    }
    by_vintage = {r["key"]: (r["issued"], r["retired"], r["cancelled"]) for r in totals["rows"]}
    assert by_vintage == {"2023": (50, 50, 0), "2024": (100, 10, 5)}
    county = (await s.disclosure.get("/v1/public/totals?by=county")).json()
    assert [(r["key"], r["outstanding"]) for r in county["rows"]] == [("QP", 85)]


async def test_lists_download_as_csv_and_xlsx(s: Slice, platform: Platform) -> None:
    coop = await open_account(s, "COOP-QP-02")
    await issue(s, coop, 2024, 20)
    retired = await s.registry.post(
        "/v1/retirements",
        json={
            "account": coop,
            "quantity": 3,
            "beneficiary": "青浦某企业",
            "purpose": "carbon_label",
        },
        headers=platform.token("COOP-QP-02", "account_holder"),
    )
    assert retired.status_code == 201, retired.text
    await eventually(s, "/v1/public/retirements", lambda p: len(p["items"]) == 1)
    await eventually(s, "/v1/public/totals", lambda t: t["overall"]["retired"] == 3)
    csv_file = await s.disclosure.get("/v1/public/retirements?format=csv")
    assert csv_file.status_code == 200
    assert csv_file.headers["content-type"].startswith("text/csv")
    assert 'filename="retirements.csv"' in csv_file.headers["content-disposition"]
    lines = csv_file.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id,account,owner,quantity,beneficiary,purpose")
    assert "青浦某企业" in lines[1] and len(lines) == 2
    xlsx = await s.disclosure.get("/v1/public/totals?by=vintage&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"  # a zip: an XLSX workbook
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in next(sheet.iter_rows())] == [
        "key",
        "issued",
        "retired",
        "cancelled",
        "outstanding",
    ]
    empty = await s.disclosure.get("/v1/public/projects?format=csv")  # none: the header alone
    assert empty.content.decode("utf-8-sig").splitlines() == [
        "id,program,county,title,title_en,description,developer,methodology,methodology_version,"
        "crediting_start,crediting_end,status,notice_ends_at"
    ]
    bad = await s.disclosure.get("/v1/public/retirements?format=pdf")
    assert bad.status_code == 422


async def test_a_serial_shows_its_whole_provenance(s: Slice, platform: Platform) -> None:
    coop, buyer = await open_account(s, "COOP-QP-03"), await open_account(s, "ENT-STEEL-03")
    await issue(s, coop, 2024, 10)
    owner = platform.token("COOP-QP-03", "account_holder")
    moved = await s.registry.post(
        "/v1/transfers",
        json={"from_account": coop, "to_account": buyer, "quantity": 4},
        headers=owner,
    )
    assert moved.status_code == 201, moved.text
    retired = await s.registry.post(
        "/v1/retirements",
        json={
            "account": buyer,
            "quantity": 2,
            "beneficiary": "钢铁企业",
            "purpose": "voluntary_offset",
        },
        headers=platform.token("ENT-STEEL-03", "account_holder"),
    )
    assert retired.status_code == 201, retired.text
    block = retired.json()["blocks"][0]["serial"]  # units 1–2
    unit = block.rsplit("-", 1)[0]  # <batch>-<start>: unit 1 alone
    view = await eventually(
        s,
        f"/v1/public/serials/{block}",
        # Accounts arrive on their own streams: wait for the owners' names too.
        lambda v: (
            v["retirement"] is not None
            and len(v["movements"]) == 3
            and v["batch"]
            and [m["to_owner"] for m in v["movements"][:2]] == ["COOP-QP-03", "ENT-STEEL-03"]
        ),
    )
    steps = [(m["event"], m["from_owner"], m["to_owner"], m["to_state"]) for m in view["movements"]]
    assert steps == [
        ("CreditsIssued", None, "COOP-QP-03", "available"),
        ("CreditsTransferred", "COOP-QP-03", "ENT-STEEL-03", "available"),
        ("CreditsRetired", "ENT-STEEL-03", None, "retired"),
    ]
    assert view["retirement"]["id"] == retired.json()["id"]
    assert view["batch"]["project"] == "QP0007"
    one = (await s.disclosure.get(f"/v1/public/serials/{unit}")).json()
    assert one["retirement"]["id"] == retired.json()["id"]
    live = block.rsplit("-", 2)[0] + "-000000009"  # a unit still with the cooperative
    still = (await s.disclosure.get(f"/v1/public/serials/{live}")).json()
    assert still["retirement"] is None and len(still["movements"]) == 1
    assert (
        await s.disclosure.get("/v1/public/serials/YRDPH-15-QP0001-2020-001-1")
    ).status_code == 404
    assert (await s.disclosure.get("/v1/public/serials/not-a-serial")).status_code == 422


async def test_rebuilding_from_the_topics_gives_the_same_read_models(
    s: Slice, platform: Platform, topics: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    coop, buyer = await open_account(s, "COOP-QP-06"), await open_account(s, "ENT-06")
    await issue(s, coop, 2024, 12)
    owner = platform.token("COOP-QP-06", "account_holder")
    body = {"from_account": coop, "to_account": buyer, "quantity": 5}
    assert (await s.registry.post("/v1/transfers", json=body, headers=owner)).status_code == 201
    retire = {"account": coop, "quantity": 2, "beneficiary": "B", "purpose": "voluntary_offset"}
    assert (await s.registry.post("/v1/retirements", json=retire, headers=owner)).status_code == 201
    await eventually(s, "/v1/public/retirements", lambda p: len(p["items"]) == 1)
    await eventually(s, "/v1/public/totals", lambda t: t["overall"]["retired"] == 2)
    live = await asyncpg.connect(asyncpg_dsn(s.disclosure_app.state.settings.database_url))  # type: ignore[attr-defined]
    async with asyncio.timeout(30):  # every one of the five events applied live
        while await live.fetchval("SELECT count(*) FROM processed_events") < 5:
            await asyncio.sleep(0.1)
    scratch = await asyncpg.connect(asyncpg_dsn(await platform.fresh_database("disclosure")))
    try:
        report = await compare(platform.bootstrap, topics, live, scratch)
        assert report.ok, report.differing
        assert report.events == 5  # two accounts, the issuance, the transfer, the retirement
        await scratch.execute("TRUNCATE " + ", ".join(READ_MODELS))
        monkeypatch.setattr(rebuild, "RUN", 2)  # runs that end inside a topic: the same
        assert (await compare(platform.bootstrap, topics, live, scratch)).ok
        await live.execute("UPDATE public_retirements SET beneficiary = 'mallory'")
        await scratch.execute("TRUNCATE " + ", ".join(READ_MODELS))
        tampered = await compare(platform.bootstrap, topics, live, scratch)
        assert tampered.differing == ["public_retirements"]
    finally:
        await live.close()
        await scratch.close()


async def test_reconciliation_sets_each_batch_against_the_registry(
    s: Slice, platform: Platform
) -> None:
    coop = await open_account(s, "COOP-QP-04")
    await issue(s, coop, 2024, 10)
    await issue(s, coop, 2025, 6)
    retired = await s.registry.post(
        "/v1/retirements",
        json={
            "account": coop,
            "quantity": 3,
            "beneficiary": "某企业",
            "purpose": "voluntary_offset",
        },
        headers=platform.token("COOP-QP-04", "account_holder"),
    )
    assert retired.status_code == 201, retired.text

    def settled(page: dict[str, Any]) -> bool:
        rows = page["items"]  # both batches (their streams arrive in any order), all agreeing
        retired = sum(r["read_model"]["retired"] for r in rows)
        return len(rows) == 2 and retired == 3 and all(r["agrees"] for r in rows)

    page = await eventually(s, "/v1/public/reconciliation", settled)
    assert sorted(r["read_model"]["issued"] for r in page["items"]) == [6, 10]
    assert all(r["read_model"] == r["registry"] for r in page["items"])
    assert page["registry_events_consumed"] > 0 and page["registry_sequence_consumed"] > 0
    one = (await s.disclosure.get("/v1/public/reconciliation?limit=1")).json()
    assert len(one["items"]) == 1 and one["next_cursor"] == one["items"][0]["batch_id"]
    rest = (await s.disclosure.get(f"/v1/public/reconciliation?cursor={one['next_cursor']}")).json()
    assert one["items"][0]["batch_id"] not in [r["batch_id"] for r in rest["items"]]
    # A read model that no longer adds up to the registry shows as such.
    pool = s.disclosure_app.state.runtime.pool  # type: ignore[attr-defined]
    await pool.execute("UPDATE batch_totals SET retired = retired + 1 WHERE issued = 6")
    tampered = (await s.disclosure.get("/v1/public/reconciliation")).json()["items"]
    assert [r["agrees"] for r in sorted(tampered, key=lambda r: r["read_model"]["issued"])] == [
        False,
        True,
    ]


async def test_issuances_filter_by_county_project_vintage_and_day(s: Slice) -> None:
    coop = await open_account(s, "COOP-MIX-01")
    for project, vintage in (
        ("QP0001", 2023),
        ("QP0001", 2024),
        ("WJ0002", 2024),
        ("JS0003", 2025),
    ):
        body = {"program": "YRDPH", "project": project, "vintage": vintage, "quantity": 5,
                "account": coop}  # fmt: skip
        issued = await s.registry.post("/v1/issuances", json=body, headers=s.admin)
        assert issued.status_code == 201, issued.text
    await eventually(s, "/v1/public/issuances", lambda p: len(p["items"]) == 4)

    async def batches(**filters: object) -> list[str]:
        page = await s.disclosure.get("/v1/public/issuances", params=filters)
        assert page.status_code == 200, page.text
        return [i["batch_id"] for i in page.json()["items"]]

    assert await batches(county="WJ") == ["YRDPH-15-WJ0002-2024-001"]
    assert await batches(project="QP0001") == [
        "YRDPH-15-QP0001-2024-001",
        "YRDPH-15-QP0001-2023-001",
    ]
    assert await batches(vintage=2024) == ["YRDPH-15-WJ0002-2024-001", "YRDPH-15-QP0001-2024-001"]
    assert await batches(county="QP", vintage=2023) == ["YRDPH-15-QP0001-2023-001"]
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    assert len(await batches(issued_from=today.isoformat(), issued_to=today.isoformat())) == 4
    assert await batches(issued_to=(today - timedelta(days=1)).isoformat()) == []
    for bad in ({"county": "XX"}, {"vintage": "20x4"}, {"issued_from": "yesterday"}):
        refused = await s.disclosure.get("/v1/public/issuances", params=bad)
        assert refused.status_code == 422, bad
        assert refused.headers["content-type"].startswith("application/problem+json")
    exported = await s.disclosure.get("/v1/public/issuances?county=JS&format=csv")
    assert "JS0003" in exported.text and "QP0001" not in exported.text

    page = await s.disclosure.get("/en/issuances", params={"county": "WJ", "vintage": "2024"})
    assert page.status_code == 200
    assert "YRDPH-15-WJ0002-2024-001" in page.text and "QP0001" not in page.text
    assert "/v1/public/issuances?county=WJ&amp;vintage=2024&amp;format=csv" in page.text
    # What the form asks that is not a county or a year is left out, not refused.
    lenient = await s.disclosure.get("/issuances", params={"county": "XX", "vintage": "abc"})
    assert lenient.status_code == 200 and "JS0003" in lenient.text


async def test_cancellations_and_the_buffer_pool_are_public(s: Slice) -> None:
    coop = await open_account(s, "COOP-BUF-01")
    body = {"program": "YRDPH", "project": "JS0009", "vintage": 2024, "quantity": 100,
            "buffer_quantity": 20, "account": coop}  # fmt: skip
    issued = await s.registry.post("/v1/issuances", json=body, headers=s.admin)
    assert issued.status_code == 201, issued.text
    buffer = next(b["account"] for b in issued.json()["blocks"] if b["quantity"] == 20)
    for account, quantity, reason in ((buffer, 6, "reversal"), (coop, 3, "correction")):
        cancelled = await s.registry.post(
            "/v1/cancellations",
            json={"account": account, "quantity": quantity, "reason": reason},
            headers=s.admin,
        )
        assert cancelled.status_code == 201, cancelled.text

    page = await eventually(s, "/v1/public/cancellations", lambda p: len(p["items"]) == 2)
    assert [(c["reason"], c["quantity"], c["owner"]) for c in page["items"]] == [
        ("correction", 3, "COOP-BUF-01"),
        ("reversal", 6, "REGISTRY"),
    ]
    assert page["items"][1]["blocks"][0]["serial"].startswith("YRDPH-15-JS0009-2024-001-")
    reversals = (await s.disclosure.get("/v1/public/cancellations?reason=reversal")).json()
    assert [c["quantity"] for c in reversals["items"]] == [6]
    pool = await eventually(
        s, "/v1/public/buffer", lambda b: [r["cancelled"] for r in b["items"]] == [6]
    )
    assert pool["items"] == [
        {"program": "YRDPH", "contributed": 20, "cancelled": 6, "remaining": 14}
    ]
    exported = await s.disclosure.get("/v1/public/buffer?format=csv")
    assert exported.text.splitlines()[1] == "YRDPH,20,6,14"
    home = (await s.disclosure.get("/en/")).text
    assert "Buffer pool (t)" in home and '<td>YRDPH</td><td class="n">20</td>' in home
