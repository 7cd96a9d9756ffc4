"""Event store append throughput beside a raw asyncpg INSERT of the same rows.

Cases: single-event transactions with 1 and 8 concurrent writers (through the service path:
CommandWriter → EventStore), and 1,000-event transactions. The raw baseline inserts identical,
precomputed rows straight into `events` (no hashing, no version checks, no head row); for
1,000-row transactions it takes the faster of `executemany` and one `unnest` INSERT.
PostgreSQL runs durable (fsync on). Prints JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._calibration import cpu_calibration
from bench._stack import fresh_database, postgres_server
from libs.events import CommandWriter, EventStore
from libs.events.contract.registry import CreditsTransferred, Movement, Position
from libs.events.store import EventTransaction
from libs.servicekit.database import asyncpg_dsn


def payload(i: int) -> CreditsTransferred:
    """A real registry event: a transfer of 10 t, one block moved."""
    return CreditsTransferred(
        transfer_id=f"TRF-{i:08d}",
        from_account="ACC-000001",
        to_account="ACC-000002",
        quantity=10,
        movements=[
            Movement(
                batch_id="YRDPH-15-QP0007-2024-001",
                start=i * 10 + 1,
                end=i * 10 + 10,
                from_=Position(account="ACC-000001", state="available"),
                to=Position(account="ACC-000002", state="available"),
            )
        ],
    )


ROUNDS = 6
ROUND_SECONDS = 1.0

INSERT = (
    "INSERT INTO events (sequence, id, stream, stream_version, type, time, actor, correlation_id,"
    " causation_id, traceparent, prevhash, hash, data)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
)
UNNEST = (
    "INSERT INTO events SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::int[],"
    " $5::text[], $6::timestamptz[], $7::text[], $8::text[], $9::text[], $10::text[],"
    " $11::text[], $12::text[], $13::json[])"
)


async def rows_like_the_store(server: str, count: int) -> list[tuple[Any, ...]]:
    """The exact rows the store writes, produced by the store itself (then copied raw)."""
    url = await fresh_database(server)
    pool = await asyncpg.create_pool(asyncpg_dsn(url))
    store = EventStore(pool, "bench")
    async with store.transaction() as tx:
        for i in range(count):
            await tx.append(f"account/ACC-{i:06d}", 0, [payload(i)])
    rows = await pool.fetch("SELECT * FROM events ORDER BY sequence")
    await pool.close()
    return [tuple(r) for r in rows]


class StoreSingle:
    """Single-event commands through the service path (CommandWriter → EventStore)."""

    def __init__(self, url: str, writers: int) -> None:
        self.url, self.writers, self.counter = url, writers, 0
        self.events = [payload(i) for i in range(1000)]  # prebuilt, like the raw rows

    async def open(self) -> None:
        self.pool = await asyncpg.create_pool(asyncpg_dsn(self.url), min_size=2, max_size=4)
        self.writer = CommandWriter(EventStore(self.pool, "bench"))
        await self.writer.start()

    async def close(self) -> None:
        await self.writer.stop()
        await self.pool.close()

    async def run_for(self, seconds: float) -> float:
        done = 0
        deadline = time.perf_counter() + seconds

        async def loop() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                n = self.counter
                self.counter += 1
                event = self.events[n % 1000]

                async def command(
                    tx: EventTransaction, n: int = n, e: CreditsTransferred = event
                ) -> None:
                    await tx.append(f"account/S{n}", 0, [e])

                await self.writer.execute(command)
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(self.writers)))
        return done / (time.perf_counter() - started)


class RawSingle:
    """The same rows, one autocommit INSERT each, on held connections."""

    def __init__(self, url: str, writers: int, rows: list[tuple[Any, ...]]) -> None:
        self.url, self.writers, self.rows, self.counter = url, writers, rows, 0

    async def open(self) -> None:
        self.pool = await asyncpg.create_pool(
            asyncpg_dsn(self.url), min_size=self.writers, max_size=self.writers
        )

    async def close(self) -> None:
        await self.pool.close()

    async def run_for(self, seconds: float) -> float:
        done = 0
        deadline = time.perf_counter() + seconds

        async def loop() -> None:
            nonlocal done
            async with self.pool.acquire() as conn:
                while time.perf_counter() < deadline:
                    n = self.counter
                    self.counter += 1
                    row = self.rows[n % len(self.rows)]
                    await conn.execute(INSERT, n + 1, _uuid(n), f"account/R{n}", 1, *row[4:])
                    done += 1

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(self.writers)))
        return done / (time.perf_counter() - started)


async def single_case(server: str, rows: list[tuple[Any, ...]], writers: int) -> dict[str, Any]:
    """Alternate short rounds of store and raw so that disk-latency drift hits both alike."""
    store = StoreSingle(await fresh_database(server), writers)
    raw = RawSingle(await fresh_database(server), writers, rows)
    await store.open()
    await raw.open()
    store_rates, raw_rates = [], []
    for _ in range(ROUNDS):
        store_rates.append(await store.run_for(ROUND_SECONDS))
        raw_rates.append(await raw.run_for(ROUND_SECONDS))
    await store.close()
    await raw.close()
    return _case(statistics.median(store_rates), statistics.median(raw_rates))


def _uuid(n: int) -> str:
    return f"00000000-0000-7000-8000-{n:012d}"


async def bulk_case(server: str, rows: list[tuple[Any, ...]], size: int) -> dict[str, Any]:
    """Alternate one store transaction and one raw transaction of each kind, `ROUNDS`×5."""
    pool = await asyncpg.create_pool(asyncpg_dsn(await fresh_database(server)))
    raw_pool = await asyncpg.create_pool(asyncpg_dsn(await fresh_database(server)))
    store = EventStore(pool, "bench")
    events = [payload(i) for i in range(size)]  # prebuilt, like the raw rows
    seconds = {"store": 0.0, "executemany": 0.0, "unnest": 0.0}
    transactions = ROUNDS * 5
    for t in range(transactions):
        started = time.perf_counter()
        async with store.transaction() as tx:
            for i in range(size):
                await tx.append(f"account/T{t}-{i}", 0, [events[i]])
        seconds["store"] += time.perf_counter() - started
        for method in ("executemany", "unnest"):
            base = (t * 2 + (method == "unnest")) * size
            batch = [
                (base + i + 1, _uuid(base + i), f"account/R{base + i}", 1, *rows[i][4:])
                for i in range(size)
            ]
            started = time.perf_counter()
            async with raw_pool.acquire() as conn, conn.transaction():
                if method == "executemany":
                    await conn.executemany(INSERT, batch)
                else:
                    await conn.execute(UNNEST, *[list(col) for col in zip(*batch, strict=True)])
            seconds[method] += time.perf_counter() - started
    await pool.close()
    await raw_pool.close()
    rates = {k: transactions * size / v for k, v in seconds.items()}
    case = _case(rates["store"], max(rates["executemany"], rates["unnest"]))
    case["raw_by_method"] = {k: round(rates[k]) for k in ("executemany", "unnest")}
    return case


async def main() -> None:
    size = 1000
    calibration = [cpu_calibration()]  # the VM's speed before and after (bench/_calibration.py)
    with postgres_server() as server:
        rows = await rows_like_the_store(server, size)
        report: dict[str, Any] = {
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "postgres": "embedded 18, fsync on",
            "method": f"store and raw alternate in {ROUNDS} rounds; medians (single) or totals (bulk)",
        }
        for writers in (1, 8):
            report[f"single_event_tx_{writers}_writers"] = await single_case(server, rows, writers)
        report[f"{size}_event_tx"] = await bulk_case(server, rows, size)
    report["target"] = "store ≥ 70% of raw in every case"
    report["met"] = all(
        v["ratio"] >= 0.7 for v in report.values() if isinstance(v, dict) and "ratio" in v
    )
    report["cpu_calibration_ms"] = [*calibration, cpu_calibration()]
    print(json.dumps(report, indent=2, ensure_ascii=False))


def _case(store_rate: float, raw_rate: float) -> dict[str, Any]:
    return {
        "store_events_per_s": round(store_rate),
        "raw_insert_events_per_s": round(raw_rate),
        "ratio": round(store_rate / raw_rate, 3),
    }


if __name__ == "__main__":
    # uvloop: the event loop uvicorn runs the services on; store and raw alike.
    uvloop.run(main())
