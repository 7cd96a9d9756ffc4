"""Matching benchmark (b), printing JSON: orders through HTTP with the whole platform running.

The platform as `make run` starts it (PostgreSQL, Tansu, the four services, the settlement
simulator) on free ports. 40 members (20 sell, 20 buy) send keyed limit orders around a mid
price at a fixed rate (open loop: an order leaves every 1/RATE s whatever the answers), about
half crossing. Measured: the order's acknowledgement latency (HTTP round trip, p50/p99), and
for every trade the time from execution to settled — units delivered and cash moved — read
from the trades' own timestamps after the run. Targets (issue 26): 500 orders/s sustained for
60 s, acknowledgement p99 ≤ 50 ms, trade → settled p99 ≤ 1 s.

`BENCH_RATE` (default 500) and `BENCH_SECONDS` (default 60) change the load.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import asyncpg
import httpx
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._calibration import cpu_calibration
from libs.devstack.stack import MARKET_ORG, Stack
from libs.servicekit.database import asyncpg_dsn
from libs.servicekit.devtokens import issue_token

RATE = int(os.environ.get("BENCH_RATE", "500"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "60"))
MEMBERS = 20  # per side
INSTRUMENT = "YRDPH-2024"


def bearer(state: Path, org: str, *roles: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_token(state, org, list(roles), ttl_seconds=7200)}


async def setup(state: Path, urls: dict[str, str], settlement: str) -> dict[str, dict[str, str]]:
    """Members with registry accounts, credits and cash; the instrument; every member's token."""
    admin = bearer(state, "ORG-REGISTRY", "registry_admin")
    operator = bearer(state, MARKET_ORG, "market_operator")
    tokens = {}
    async with (
        httpx.AsyncClient(base_url=urls["registry"], timeout=30) as registry,
        httpx.AsyncClient(base_url=urls["matching"], timeout=30) as matching,
        httpx.AsyncClient(base_url=settlement, timeout=30) as cash,
    ):
        listed = await matching.post(
            "/v1/instruments",
            json={
                "program": "YRDPH",
                "vintage": 2024,
                "market_model": "continuous",
                "reference_price": 5000,
                "sessions": "always",
            },
            headers=operator,
        )
        assert listed.status_code == 201, listed.text
        for side in ("sell", "buy"):
            for n in range(MEMBERS):
                org = f"{side.upper()}-{n:02d}"
                opened = await registry.post(
                    "/v1/accounts", json={"owner": org, "name": org}, headers=admin
                )
                account = opened.json()["id"]
                if side == "sell":
                    body = {
                        "program": "YRDPH",
                        "project": "QP0007",
                        "vintage": 2024,
                        "quantity": 50_000,
                        "account": account,
                    }
                    issued = await registry.post("/v1/issuances", json=body, headers=admin)
                    assert issued.status_code == 201, issued.text
                await cash.post("/v1/accounts", json={"id": f"CASH-{org}", "owner": org})
                if side == "buy":
                    await cash.post(f"/v1/accounts/CASH-{org}/deposits", json={"amount": 10**12})
                member = {"org": org, "registry_account": account, "cash_account": f"CASH-{org}"}
                admitted = await matching.post("/v1/members", json=member, headers=operator)
                assert admitted.status_code == 201, admitted.text
                tokens[org] = bearer(state, org, "member", "account_holder")
    return tokens


async def load(base: str, tokens: dict[str, dict[str, str]]) -> dict[str, object]:
    rng = random.Random(2026)
    orgs = sorted(tokens)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    tasks: set[asyncio.Task[None]] = set()
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(base, connector=connector) as client:

        async def send(org: str, body: dict[str, object]) -> None:
            headers = tokens[org] | {"Idempotency-Key": uuid.uuid4().hex}
            started = time.perf_counter()
            async with client.post("/v1/orders", json=body, headers=headers) as response:
                await response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1
            latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        for n in range(RATE * SECONDS):
            due = started + n / RATE
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            org = rng.choice(orgs)
            side = "sell" if org.startswith("SELL") else "buy"
            # Bids a little below the mid, asks a little above; the spread crosses about half.
            price = 5000 + rng.randint(-30, 30) + (10 if side == "sell" else -10)
            body = {
                "instrument": INSTRUMENT,
                "side": side,
                "price": price,
                "quantity": rng.randint(1, 5),
            }
            task = asyncio.create_task(send(org, body))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        sent_for = time.perf_counter() - started
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "orders": len(latencies),
        "statuses": statuses,
        "sending_seconds": round(sent_for, 2),
        "orders_per_s": round(len(latencies) / elapsed),
        "ack_p50_ms": round(statistics.median(ordered) * 1000, 1),
        "ack_p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 1),
    }


async def settlement(url: str, drain_seconds: float = 60) -> dict[str, object]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        deadline = time.monotonic() + drain_seconds
        while await conn.fetchval("SELECT count(*) FROM trades WHERE status = 'executed'"):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        rows = await conn.fetch(
            "SELECT status, extract(epoch FROM closed_at - executed_at) AS seconds FROM trades"
        )
        batches = await conn.fetchval("SELECT count(DISTINCT batch_id) FROM trades")
    finally:
        await conn.close()
    settled = sorted(float(r["seconds"]) for r in rows if r["status"] == "settled")
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return {
        "trades": counts,
        "settled_p50_ms": round(statistics.median(settled) * 1000) if settled else None,
        "settled_p99_ms": round(settled[int(len(settled) * 0.99)] * 1000) if settled else None,
        "settlement_batches": batches,
        "trades_per_batch": round(len(rows) / batches, 1) if batches else None,
    }


async def main() -> None:
    calibration = [cpu_calibration()]  # the VM's speed before and after (bench/_calibration.py)
    with tempfile.TemporaryDirectory(prefix="tanhui-bench-") as tmp:
        state = Path(tmp)
        stack = Stack.on_free_ports(state)
        await asyncio.to_thread(stack.up)
        try:
            urls = stack.urls()
            settlement_url = f"http://127.0.0.1:{stack.settlement_port}"
            tokens = await setup(state, urls, settlement_url)
            report: dict[str, object] = {"rate": RATE, "seconds": SECONDS}
            report["b_http_orders"] = await load(urls["matching"], tokens)
            report["b_settlement"] = await settlement(stack.env["TANHUI_MATCHING_DATABASE_URL"])
        finally:
            await asyncio.to_thread(stack.down)
        report["targets"] = {
            "b": "500 orders/s for 60 s, acknowledgement p99 ≤ 50 ms, trade → settled p99 ≤ 1 s"
        }
        report["cpu_calibration_ms"] = [*calibration, cpu_calibration()]
        print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    uvloop.run(main())
