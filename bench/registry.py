"""Registry benchmarks (issue 3), printing JSON.

(a) transfers through the HTTP API: 16 concurrent clients over 1,000 accounts, with a fresh
    `Idempotency-Key` on each and then without, the platform as `make run` starts it (durable
    PostgreSQL, Tansu, the four services as processes) — throughput, p50, p99;
(c) `verify` over the resulting log — events/s.
(b) atomic `POST /v1/bulk` requests of 10,000 transfers, one after the other — operations/s,
    and the CPU seconds each request cost the service and PostgreSQL.
Targets on this 2-core machine: (a) ≥ 700 keyed transfers/s (≥ 800 unkeyed) with p99 ≤ 50 ms,
(b) ≥ 15,000 operations/s (median), (c) ≥ 50,000 events/s.
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
from pathlib import Path

import aiohttp
import asyncpg
import httpx
import orjson
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._calibration import cpu_calibration
from bench._stack import cpu_seconds
from libs.devstack.processes import stop
from libs.devstack.stack import Stack
from libs.events.store import EventStore
from libs.servicekit.database import asyncpg_dsn
from libs.servicekit.devtokens import issue_token
from services.registry.audit import verify

ACCOUNTS, CLIENTS = 1000, 16
SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
PARTS = os.environ.get("BENCH_PARTS", "abc")
BULK_ROUNDS = int(
    os.environ.get("BENCH_BULK_ROUNDS", "3")
)  # e.g. "b" to run the bulk benchmark alone


async def setup(client: httpx.AsyncClient, admin: dict[str, str]) -> list[str]:
    async def open_one(i: int) -> str:
        r = await client.post(
            "/v1/accounts", json={"owner": f"ORG-{i:04d}", "name": f"a{i}"}, headers=admin
        )
        return str(r.json()["id"])

    accounts = []
    for chunk in range(0, ACCOUNTS, 50):
        accounts += await asyncio.gather(*(open_one(i) for i in range(chunk, chunk + 50)))

    async def fund(i: int, account: str) -> None:
        body = {
            "program": "YRDPH",
            "project": f"QP{i % 100:04d}",
            "vintage": 2024,
            "quantity": 1_000_000,
            "account": account,
        }
        r = await client.post("/v1/issuances", json=body, headers=admin)
        assert r.status_code == 201, r.text

    for chunk in range(0, ACCOUNTS, 50):
        await asyncio.gather(
            *(fund(i, accounts[i]) for i in range(chunk, min(chunk + 50, ACCOUNTS)))
        )
    return accounts


async def transfers(
    base: str, admin: dict[str, str], accounts: list[str], keyed: bool
) -> dict[str, float]:
    """16 clients on aiohttp: httpx's client costs more CPU than the server it measures. Keyed:
    a fresh `Idempotency-Key` on every transfer, as a back office sends."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + SECONDS

    async def client_loop(seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        async with aiohttp.ClientSession(base, headers=admin) as client:
            while time.perf_counter() < deadline:
                source, target = rng.sample(accounts, 2)
                body = {
                    "from_account": source,
                    "to_account": target,
                    "quantity": rng.randint(1, 20),
                }
                headers = {"Idempotency-Key": uuid.uuid4().hex} if keyed else None
                started = time.perf_counter()
                async with client.post("/v1/transfers", json=body, headers=headers) as response:
                    await response.read()
                    errors += response.status != 201
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client_loop(i) for i in range(CLIENTS)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "transfers": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 2),
        "transfers_per_s": round(len(latencies) / elapsed),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 2),
    }


async def bulk(
    base: str, admin: dict[str, str], accounts: list[str], service_pid: int, url: str
) -> dict[str, object]:
    """Atomic bulk requests of 10,000 one-unit transfers each (the end-of-day path), BULK_ROUNDS
    of them one after the other: the VM's noise between single runs is ±30%."""
    seconds: list[float] = []
    cpu: list[dict[str, float]] = []
    wal: list[dict[str, int]] = []
    calibration: list[float] = []
    stats = await asyncpg.connect(asyncpg_dsn(url))
    statuses: set[int] = set()
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        for round_ in range(BULK_ROUNDS):
            rng = random.Random(99 + round_)
            operations = []
            for _ in range(10_000):
                source, target = rng.sample(accounts, 2)
                operations.append(
                    {"op": "transfer", "from_account": source, "to_account": target, "quantity": 1}
                )
            # Encoded before the clock starts: the server's time, not the client's json.dumps.
            body = orjson.dumps({"mode": "atomic", "operations": operations})
            headers = {**admin, "Content-Type": "application/json"}
            await relay_settled(client, stats)  # not competing with the last round's publishing
            calibration.append(cpu_calibration())
            wal_before = await wal_written(stats)
            before = cpu_seconds(service_pid)
            started = time.perf_counter()
            response = await client.post("/v1/bulk", content=body, headers=headers)
            seconds.append(round(time.perf_counter() - started, 3))
            after = cpu_seconds(service_pid)
            cpu.append({side: round(after[side] - before[side], 2) for side in after})
            wal_after = await wal_written(stats)
            wal.append({k: wal_after[k] - wal_before[k] for k in wal_after})
            statuses.add(response.status_code)
            assert response.json().get("succeeded") == 10_000, response.text[:500]
    await stats.close()
    rates = [round(10_000 / s) for s in seconds]
    return {
        "operations_per_request": 10_000,
        "statuses": sorted(statuses),
        "seconds": seconds,
        "operations_per_s": rates,
        "median_operations_per_s": statistics.median(rates),
        # Both sides' CPU per request: with 2 cores, 10,000 / ((service + postgres) / 2) is the
        # most any overlap of the two could give.
        "cpu_seconds": cpu,
        # The cluster's WAL per request, and the checkpoints begun meanwhile: after one, pages
        # are logged whole the first time they change (more WAL, more of PostgreSQL's CPU).
        "wal": wal,
        # The VM's speed just before each request (see `cpu_calibration`).
        "cpu_calibration_ms": calibration,
    }


async def wal_written(conn: asyncpg.Connection) -> dict[str, int]:
    """WAL bytes so far (the insert position: exact, where pg_stat_wal lags up to a second)
    and checkpoints so far."""
    row = await conn.fetchrow(
        "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint AS bytes,"
        " num_timed + num_requested AS checkpoints FROM pg_stat_checkpointer"
    )
    assert row is not None
    return dict(row)


async def bulk_holds(
    base: str, admin: dict[str, str], accounts: list[str], url: str
) -> dict[str, object]:
    """Not a target, for information: one atomic bulk request placing 10,000 one-unit pledges,
    then one releasing all of them."""
    rng = random.Random(7)
    place = [
        {"op": "hold", "account": rng.choice(accounts), "quantity": 1, "purpose": "pledge",
         "holder": "ORG-BANK"}
        for _ in range(10_000)
    ]  # fmt: skip
    rates = {}
    headers = {**admin, "Content-Type": "application/json"}
    log = await asyncpg.connect(asyncpg_dsn(url))
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        for name in ("hold", "release"):
            body = orjson.dumps({"mode": "atomic", "operations": place})
            await relay_settled(client, log)
            started = time.perf_counter()
            response = await client.post("/v1/bulk", content=body, headers=headers)
            elapsed = time.perf_counter() - started
            assert response.json().get("succeeded") == 10_000, response.text[:500]
            rates[f"{name}_operations_per_s"] = round(10_000 / elapsed)
            ids = [item["result"]["id"] for item in response.json()["results"]]
            place = [{"op": "release", "hold_id": hold_id} for hold_id in ids]
    await log.close()
    return rates


async def relay_settled(client: httpx.AsyncClient, log: asyncpg.Connection) -> None:
    """Until the outbox relay has published the whole log (its position, saved once the broker
    acknowledged a batch, reaches the log's head). Waiting only for the position to stop
    moving for 0.3 s could end while a batch of 2,000 was still being sent, and the next
    request then shared the service's core with the relay."""
    head = await log.fetchval("SELECT coalesce(max(sequence), 0) FROM events")
    while True:
        lines = (await client.get("/metrics")).text.splitlines()
        position = next(line for line in lines if line.startswith("tanhui_relay_position "))
        if float(position.split()[1]) >= head:
            return
        await asyncio.sleep(0.05)


async def writer_stats(base: str) -> dict[str, object]:
    """The group-commit writer's counters (from /metrics) over the run so far."""
    async with httpx.AsyncClient(base_url=base) as client:
        lines = (await client.get("/metrics")).text.splitlines()
    metrics = {name: float(value) for name, value in (line.split(" ") for line in lines)}
    batches = metrics["tanhui_writer_batches_total"]
    return {
        "mean_commands_per_commit": round(metrics["tanhui_writer_commands_total"] / batches, 1),
        "pessimistic_reruns": int(metrics["tanhui_writer_pessimistic_reruns_total"]),
        "mean_batch_ms": round(1000 * metrics["tanhui_writer_batch_seconds_total"] / batches, 2),
        # transactions that started from the blocks the previous one committed (no re-read)
        "kept_state_used": int(metrics["tanhui_writer_kept_state_used_total"]),
    }


async def verify_speed(url: str, rounds: int = 3) -> dict[str, object]:
    """`verify` as the CLI runs it (hashes recomputed in a second process), `rounds` times."""
    pool = await asyncpg.create_pool(asyncpg_dsn(url), min_size=1, max_size=2)
    try:
        results = [
            await verify(EventStore(pool, "registry"), dsn=asyncpg_dsn(url)) for _ in range(rounds)
        ]
    finally:
        await pool.close()
    rates = [round(r.events / r.seconds) for r in results]
    return {
        "events": results[0].events,
        "seconds": [round(r.seconds, 3) for r in results],
        "events_per_s": rates,
        "median_events_per_s": statistics.median(rates),
        "ok": all(r.ok for r in results),
    }


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="tanhui-bench-") as tmp:
        # The platform as `make run` starts it (durable PostgreSQL, Tansu, all four services), on
        # free ports: the registry's relay publishes and disclosure consumes while requests run.
        stack = Stack.on_free_ports(Path(tmp))
        await asyncio.to_thread(stack.up)
        base = stack.urls()["registry"]
        url = stack.env["TANHUI_REGISTRY_DATABASE_URL"]
        service_pid = stack.services["registry"].pid
        try:
            admin = {
                "Authorization": "Bearer "
                + issue_token(Path(tmp), "ORG-REGISTRY", ["registry_admin"])
            }
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                accounts = await setup(client, admin)
            report: dict[str, dict[str, object]] = {}
            # The load generator's own full collections (50–65 ms with the set-up's objects
            # alive) would be timed as server latency: keep them out of the measurement.
            gc.collect()
            gc.freeze()
            if "a" in PARTS:
                report["a_http_transfers_keyed"] = await transfers(base, admin, accounts, True)
                report["a_http_transfers_unkeyed"] = await transfers(base, admin, accounts, False)
                report["a_http_transfers_unkeyed"] |= await writer_stats(base)
            if "b" in PARTS:
                report["b_bulk"] = await bulk(base, admin, accounts, service_pid, url)
                kept = (await writer_stats(base))["kept_state_used"]
                report["b_bulk"]["kept_state_used_so_far"] = kept
                report["b_bulk_holds"] = await bulk_holds(base, admin, accounts, url)
            for process in stack.services.values():  # verify alone, as an auditor runs it
                stop(process)
            if "c" in PARTS:
                report["c_verify"] = await verify_speed(url)
        finally:
            await asyncio.to_thread(stack.down)
        report["targets"] = {
            "a": "keyed ≥ 700/s (unkeyed ≥ 800/s), p99 ≤ 50 ms, the other services running",
            "b": "≥ 15,000 ops/s (median of the run)",
            "c": "≥ 50,000 events/s",
        }
        print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    uvloop.run(main())
