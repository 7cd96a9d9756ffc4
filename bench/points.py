"""Carbon points benchmark (issue 29), printing JSON.

The platform as `make run` starts it (durable PostgreSQL, Tansu, the four services as
processes). A backed scheme (1,000,000 retired tonnes behind it) and 1,000 holders; then 16
clients on aiohttp, each request with a fresh `Idempotency-Key`: (a) mints by the operator,
(b) transfers between random holders (by the operator on their behalf) — throughput, p50, p99.
Target on this 2-core machine: ≥ 800/s with p99 ≤ 50 ms, like registry transfers.
`BENCH_SECONDS` (default 20) per part.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._calibration import cpu_calibration
from libs.devstack.stack import Stack
from libs.servicekit.devtokens import issue_token

SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
CLIENTS = 16
HOLDERS = [f"P-{n:05d}" for n in range(1000)]
OPERATOR = "OPR-BENCH"


async def setup(client: httpx.AsyncClient, admin: dict[str, str], operator: dict[str, str]) -> str:
    account = (
        await client.post("/v1/accounts", json={"owner": OPERATOR, "name": "b"}, headers=admin)
    ).json()["id"]
    issue = {"program": "YRDPH", "project": "QP0007", "vintage": 2024, "quantity": 1_000_000}
    assert (
        await client.post("/v1/issuances", json=issue | {"account": account}, headers=admin)
    ).status_code == 201
    retire = {
        "account": account,
        "quantity": 1_000_000,
        "beneficiary": "b",
        "purpose": "points_backing",
    }
    retirement = (await client.post("/v1/retirements", json=retire, headers=operator)).json()["id"]
    scheme = {"name": "bench", "operator": OPERATOR, "backed": True}
    scheme_id = str(
        (await client.post("/v1/points/schemes", json=scheme, headers=admin)).json()["id"]
    )
    backing = {"retirement_id": retirement}
    added = await client.post(
        f"/v1/points/schemes/{scheme_id}/backings", json=backing, headers=operator
    )
    assert added.status_code == 201, added.text
    return scheme_id


async def load(
    base: str,
    headers: dict[str, str],
    path: str,
    body_of: Callable[[random.Random], dict[str, Any]],
) -> dict[str, object]:
    latencies: list[float] = []
    refused: dict[str, int] = {}  # problem type → count (a transfer from an empty holder: 409)
    deadline = time.perf_counter() + SECONDS

    async def client_loop(seed: int) -> None:
        rng = random.Random(seed)
        async with aiohttp.ClientSession(base, headers=headers) as client:
            while time.perf_counter() < deadline:
                keyed = {"Idempotency-Key": uuid.uuid4().hex}
                started = time.perf_counter()
                async with client.post(path, json=body_of(rng), headers=keyed) as response:
                    answer = await response.read()
                    if response.status != 201:
                        kind = f"{response.status} {json.loads(answer).get('type', '')}"
                        refused[kind] = refused.get(kind, 0) + 1
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client_loop(i) for i in range(CLIENTS)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "refused": refused,
        "per_s": round(len(ordered) / elapsed),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 2),
    }


async def main() -> None:
    calibration = [cpu_calibration()]  # the VM's speed before and after (bench/_calibration.py)
    with tempfile.TemporaryDirectory(prefix="tanhui-bench-") as tmp:
        stack = Stack.on_free_ports(Path(tmp))
        await asyncio.to_thread(stack.up)
        base = stack.urls()["registry"]
        try:
            admin = {
                "Authorization": "Bearer "
                + issue_token(Path(tmp), "ORG-REGISTRY", ["registry_admin"])
            }
            operator = {
                "Authorization": "Bearer " + issue_token(Path(tmp), OPERATOR, ["account_holder"])
            }
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                scheme = await setup(client, admin, operator)
            gc.collect()
            gc.freeze()
            report = {
                "a_mint": await load(
                    base,
                    operator,
                    "/v1/points/mint",
                    lambda rng: {
                        "scheme": scheme,
                        "to": rng.choice(HOLDERS),
                        "points": rng.randint(50, 200),
                        "reason": "bench",
                    },
                ),
                "b_transfer": await load(
                    base,
                    operator,
                    "/v1/points/transfers",
                    lambda rng: {
                        "scheme": scheme,
                        "from": (pair := rng.sample(HOLDERS, 2))[0],
                        "to": pair[1],
                        "points": rng.randint(1, 5),
                    },
                ),
                "target": "≥ 800/s, p99 ≤ 50 ms (16 clients, keyed), the other services running",
            }
        finally:
            await asyncio.to_thread(stack.down)
        report["cpu_calibration_ms"] = [*calibration, cpu_calibration()]
        print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    uvloop.run(main())
