"""POST /v1/bulk: atomic and independent modes, and a kill -9 in the middle of a bulk request."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess

import asyncpg
import httpx

from libs.devstack.processes import free_port
from libs.events.store import EventStore, EventTransaction
from libs.servicekit.auth import Principal
from libs.servicekit.database import asyncpg_dsn
from services.registry import holds
from services.registry.audit import verify
from services.registry.schemas import HoldView, PlaceHold
from tests.conftest import Platform
from tests.e2e.conftest import Slice
from tests.e2e.test_registry_holds import registry_only  # noqa: F401  (fixture `r`)
from tests.e2e.test_registry_movements import holdings, issue
from tests.e2e.test_thin_slice import log_head, open_account
from tests.service_processes import service_env, start_service


async def test_an_atomic_bulk_applies_all_or_nothing(r: Slice) -> None:
    a, b = await open_account(r, "ORG-A"), await open_account(r, "ORG-B")
    await issue(r, a, 2024, 100)
    ops = [{"op": "transfer", "from_account": a, "to_account": b, "quantity": 10} for _ in range(5)]
    ops.append(
        {
            "op": "retire",
            "account": a,
            "quantity": 5,
            "beneficiary": "x",
            "purpose": "voluntary_offset",
        }
    )
    key = r.admin | {"Idempotency-Key": "eod-bulk-1"}
    done = await r.registry.post(
        "/v1/bulk", json={"mode": "atomic", "operations": ops}, headers=key
    )
    assert done.status_code == 200, done.text
    assert (done.json()["succeeded"], done.json()["failed"]) == (6, 0)
    assert done.json()["results"][5]["result"]["blocks"][0]["state"] == "retired"
    # A transfer's view is built after the commands ran; it is the transfer as recorded.
    first = done.json()["results"][0]["result"]
    recorded = await r.registry.get(f"/v1/transfers/{first['id']}", headers=r.admin)
    assert first == recorded.json() and first["blocks"][0]["account"] == b
    assert (await holdings(r, a))["total"] == 45 and (await holdings(r, b))["total"] == 50
    head = await log_head(r)
    # The response was rendered before the commit; the key stores and replays it as sent.
    replay = await r.registry.post(
        "/v1/bulk", json={"mode": "atomic", "operations": ops}, headers=key
    )
    assert replay.headers["idempotent-replayed"] == "true" and replay.json() == done.json()
    assert await log_head(r) == head
    too_much = [*ops[:2], {"op": "transfer", "from_account": a, "to_account": b, "quantity": 1000}]
    refused = await r.registry.post(
        "/v1/bulk", json={"mode": "atomic", "operations": too_much}, headers=r.admin
    )
    assert refused.status_code == 409
    assert refused.json()["index"] == 2 and refused.json()["type"].endswith("bulk-item-refused")
    assert await log_head(r) == head
    assert (await holdings(r, a))["total"] == 45


async def test_an_independent_bulk_reports_each_item(r: Slice) -> None:
    a, b = await open_account(r, "ORG-A"), await open_account(r, "ORG-B")
    await issue(r, a, 2024, 30)
    ops = [
        {"op": "transfer", "from_account": a, "to_account": b, "quantity": 20},
        {"op": "transfer", "from_account": a, "to_account": b, "quantity": 20},  # only 10 left
        {"op": "hold", "account": a, "quantity": 10, "purpose": "pledge", "holder": "BANK"},
    ]
    response = await r.registry.post(
        "/v1/bulk", json={"mode": "independent", "operations": ops}, headers=r.admin
    )
    assert response.status_code == 200, response.text
    assert [item["status"] for item in response.json()["results"]] == [201, 409, 201]
    assert response.json()["results"][1]["problem"]["type"].endswith("insufficient-units")
    mine = await holdings(r, a)
    assert (mine["available"], mine["held"]) == (0, 10)
    malformed = await r.registry.post(
        "/v1/bulk",
        json={"mode": "atomic", "operations": [ops[0], {"op": "transfer", "quantity": -1}]},
        headers=r.admin,
    )
    assert malformed.status_code == 422 and malformed.json()["index"] == 1
    assert malformed.json()["detail"].startswith("operation 1: quantity: "), malformed.json()
    unknown_op = await r.registry.post(
        "/v1/bulk",
        json={"mode": "atomic", "operations": [ops[0], ops[0], {"op": "explode"}]},
        headers=r.admin,
    )
    assert unknown_op.status_code == 422 and unknown_op.json()["index"] == 2, unknown_op.json()
    bad_mode = await r.registry.post(
        "/v1/bulk", json={"mode": "sometimes", "operations": [ops[0]]}, headers=r.admin
    )
    assert bad_mode.status_code == 422 and "index" not in bad_mode.json()
    assert bad_mode.json()["errors"][0]["location"] == "body.mode"
    assert (await holdings(r, a))["total"] == 10  # nothing changed


async def test_a_bulk_body_is_validated_while_its_accounts_are_read(r: Slice) -> None:
    """Items are validated in slices of 1,000 beside the first read: an invalid item past the
    first slices is still named by its index, and nothing changes; a body that is not JSON is
    a 400, one that is not an object a 422."""
    a, b = await open_account(r, "ORG-A"), await open_account(r, "ORG-B")
    await issue(r, a, 2024, 3000)
    transfer = {"op": "transfer", "from_account": a, "to_account": b, "quantity": 1}
    ops = [transfer] * 2500
    late = [*ops[:2345], {**transfer, "quantity": 0}, *ops[2346:]]
    refused = await r.registry.post(
        "/v1/bulk", json={"mode": "atomic", "operations": late}, headers=r.admin
    )
    assert refused.status_code == 422 and refused.json()["index"] == 2345, refused.text[:300]
    assert refused.json()["errors"][0]["location"] == "body.operations.2345.transfer.quantity"
    assert (await holdings(r, a))["total"] == 3000
    not_json = await r.registry.post(
        "/v1/bulk", content=b'{"mode": "atomic", "operations": [', headers=r.admin
    )
    assert not_json.status_code == 400, not_json.text
    assert not_json.json()["type"].endswith("malformed-body")
    not_object = await r.registry.post("/v1/bulk", json=[transfer], headers=r.admin)
    assert not_object.status_code == 422 and "index" not in not_object.json()
    done = await r.registry.post(
        "/v1/bulk", json={"mode": "atomic", "operations": ops}, headers=r.admin
    )
    assert done.status_code == 200 and done.json()["succeeded"] == 2500, done.text[:300]
    assert (await holdings(r, b))["total"] == 2500
    schema = (await r.registry.get("/openapi.json")).json()
    body = schema["paths"]["/v1/bulk"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/BulkRequest"}
    assert "operations" in schema["components"]["schemas"]["BulkRequest"]["properties"]
    assert "BulkTransfer" in schema["components"]["schemas"]


async def test_bulk_releases_read_their_holds_together_and_see_each_other(r: Slice) -> None:
    """Releases in a bulk request read their holds up front; a hold released by one item is
    no longer active for the next; the new statuses are stored."""
    a = await open_account(r, "ORG-A")
    await issue(r, a, 2024, 30)
    placed = []
    for _ in range(2):
        hold = {"account": a, "quantity": 10, "purpose": "pledge", "holder": "BANK"}
        response = await r.registry.post("/v1/holds", json=hold, headers=r.admin)
        assert response.status_code == 201, response.text
        placed.append(response.json()["id"])
    ops = [
        {"op": "release", "hold_id": placed[0]},
        {"op": "release", "hold_id": placed[0]},  # already released by the item before
        {"op": "release", "hold_id": "HLD-99999999"},
        {"op": "release", "hold_id": placed[1]},
        {"op": "hold", "account": a, "quantity": 5, "purpose": "pledge", "holder": "BANK"},
    ]
    response = await r.registry.post(
        "/v1/bulk", json={"mode": "independent", "operations": ops}, headers=r.admin
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [item["status"] for item in results] == [201, 409, 404, 201, 201]
    assert results[1]["problem"]["type"].endswith("hold-not-active")
    assert results[2]["problem"]["type"].endswith("unknown-hold")
    mine = await holdings(r, a)
    assert (mine["available"], mine["held"]) == (25, 5)
    again = await r.registry.post(f"/v1/holds/{placed[1]}/release", headers=r.admin)
    assert again.status_code == 409  # the release was stored
    later = await r.registry.post(
        f"/v1/holds/{results[4]['result']['id']}/release", headers=r.admin
    )
    assert later.status_code == 200 and later.json()["quantity"] == 5


async def test_bulk_executions_deliver_one_hold_in_parts_and_finish_what_they_delivered(
    r: Slice,
) -> None:
    """Delivery versus payment's two registry steps, many trades per request: an escrow
    executed in parts to buyers still held by its holder, then the delivered holds executed
    to the buyers' own accounts — later items see what earlier ones did."""
    seller, buyer = await open_account(r, "ORG-A"), await open_account(r, "ORG-B")
    await issue(r, seller, 2024, 30)
    hold = {"account": seller, "quantity": 20, "purpose": "escrow", "holder": "ORG-REGISTRY"}
    placed = await r.registry.post("/v1/holds", json=hold, headers=r.admin)
    assert placed.status_code == 201, placed.text
    escrow = placed.json()["id"]
    deliver = {"op": "execute", "hold_id": escrow, "to_account": buyer, "keep_held": True}
    ops = [deliver | {"quantity": 8}, deliver | {"quantity": 15}, deliver | {"quantity": 12}]
    delivered = await r.registry.post(
        "/v1/bulk", json={"mode": "independent", "operations": ops}, headers=r.admin
    )
    assert delivered.status_code == 200, delivered.text
    results = delivered.json()["results"]
    assert [item["status"] for item in results] == [201, 409, 201]
    assert results[1]["problem"]["type"].endswith("insufficient-units")
    assert results[2]["result"]["status"] == "executed"  # 8 + 12: the escrow is used up
    mine = await holdings(r, buyer)
    assert (mine["available"], mine["held"]) == (0, 20)
    finals = [
        {"op": "execute", "hold_id": results[i]["result"]["delivered_hold_id"], "to_account": buyer}
        for i in (0, 2)
    ]
    final = await r.registry.post(
        "/v1/bulk", json={"mode": "atomic", "operations": finals}, headers=r.admin
    )
    assert final.status_code == 200 and final.json()["succeeded"] == 2, final.text
    mine = await holdings(r, buyer)
    assert (mine["available"], mine["held"]) == (20, 0)
    assert (await holdings(r, seller))["total"] == 10


async def test_a_hold_placed_and_released_in_one_transaction(r: Slice) -> None:
    """A hold placed earlier in the same transaction is known (not yet stored) to the next."""
    a = await open_account(r, "ORG-A")
    await issue(r, a, 2024, 10)
    admin = Principal("admin", "ORG-REGISTRY", frozenset({"registry_admin"}))
    body = PlaceHold(account=a, quantity=4, purpose="pledge", holder="BANK")

    async def place_then_release(tx: EventTransaction) -> tuple[HoldView, HoldView]:
        hold = await holds.place_hold(tx, admin, body)
        return hold, await holds.release(tx, admin, hold.id)

    writer = r.app.state.runtime.writer  # type: ignore[attr-defined]
    placed, released = await writer.execute(place_then_release)
    assert (placed.status, released.status, released.quantity) == ("active", "released", 4)
    assert (await holdings(r, a))["available"] == 10
    again = await r.registry.post(f"/v1/holds/{placed.id}/release", headers=r.admin)
    assert again.status_code == 409 and again.json()["type"].endswith("hold-not-active")


BULK = 10_000


async def _until_writing(url: str) -> None:
    """Wait until a transaction of the registry has written (it has an xid) and is not done."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        for _ in range(4000):
            writing = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
            )
            if writing:
                return
            await asyncio.sleep(0.002)
    finally:
        await conn.close()
    raise AssertionError("the bulk never started writing")


async def test_a_bulk_killed_midway_leaves_all_or_nothing(platform: Platform, topics: str) -> None:
    url = (await platform.settings("registry", topics)).database_url
    env = _registry_env(platform, topics, url)
    port = free_port()
    admin = platform.token("ORG-REGISTRY", "registry_admin")
    base = f"http://127.0.0.1:{port}"

    server = await _start_registry(env, port)
    try:
        async with httpx.AsyncClient(base_url=base, headers=admin, timeout=60) as client:
            opened = [
                await client.post("/v1/accounts", json={"owner": f"ORG-{n}", "name": n})
                for n in "AB"
            ]
            a, b = (r.json()["id"] for r in opened)
            body = {
                "program": "YRDPH",
                "project": "QP0001",
                "vintage": 2024,
                "quantity": 100_000,
                "account": a,
            }
            assert (await client.post("/v1/issuances", json=body)).status_code == 201
            ops = [
                {"op": "transfer", "from_account": a, "to_account": b, "quantity": 1}
                for _ in range(BULK)
            ]
            request = asyncio.create_task(
                client.post("/v1/bulk", json={"mode": "atomic", "operations": ops})
            )
            # Once the bulk's transaction has written, kill the server under it.
            await _until_writing(url)
            assert not request.done(), "the bulk finished before the kill"
            os.kill(server.pid, signal.SIGKILL)
            server.wait()
            await asyncio.gather(request, return_exceptions=True)
    finally:
        server.kill()  # already dead unless an assertion failed before the kill
        server.wait()
    server = await _start_registry(env, port)
    try:
        async with httpx.AsyncClient(base_url=base, headers=admin) as client:
            moved = (await client.get(f"/v1/accounts/{b}/holdings")).json()["total"]
        assert moved in (0, BULK), f"a partial bulk survived a crash: {moved} of {BULK}"
        pool = await asyncpg.create_pool(asyncpg_dsn(url), min_size=1, max_size=2)
        try:
            report = await verify(EventStore(pool, "registry"))
        finally:
            await pool.close()
        assert report.ok, report.problems
    finally:
        server.terminate()
        server.wait()


def _registry_env(platform: Platform, topics: str, database_url: str) -> dict[str, str]:
    """A registry process's environment: this test's database and topics, no relay or consumers."""
    return service_env(
        platform,
        topics,
        "registry",
        database_url,
        TANHUI_RELAY_ENABLED="false",
        TANHUI_CONSUMERS_ENABLED="false",
    )


async def _start_registry(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    return await start_service("registry", env, port)
