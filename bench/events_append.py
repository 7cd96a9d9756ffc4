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
import platform
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._stack import fresh_database, postgres_server
from libs.events import CommandWriter, EventStore
from libs.events.catalog import EventCatalog, EventPayload
from libs.events.store import EventTransaction
from libs.servicekit.database import asyncpg_dsn

catalog = EventCatalog("bench")


@catalog.event("CreditsMoved", version=1)
class CreditsMoved(EventPayload):
    transfer_id: str
    quantity: int
    movements: list[dict[str, Any]]


def payload(i: int) -> CreditsMoved:
    return CreditsMoved(
        transfer_id=f"TRF-{i:08d}",
        quantity=10,
        movements=[
            {
                "batch_id": "YRDPH-15-QP0007-2024-001",
                "start": i * 10 + 1,
                "end": i * 10 + 10,
                "from": {"account": "ACC-000001", "state": "available"},
                "to": {"account": "ACC-000002", "state": "available"},
            }
        ],
    )


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


async def store_single(server: str, writers: int, seconds: float) -> float:
    url = await fresh_database(server)
    pool = await asyncpg.create_pool(asyncpg_dsn(url), min_size=2, max_size=4)
    store = EventStore(pool, "bench")
    writer = CommandWriter(store)
    await writer.start()
    done = 0
    deadline = time.perf_counter() + seconds

    async def loop(w: int) -> None:
        nonlocal done
        i = 0
        while time.perf_counter() < deadline:
            stream = f"account/W{w}-{i % 500}"
            version = i // 500

            event = payload(i)

            async def command(
                tx: EventTransaction, s: str = stream, v: int = version, e: CreditsMoved = event
            ) -> None:
                await tx.append(s, v, [e])

            await writer.execute(command)
            i += 1
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(w) for w in range(writers)))
    elapsed = time.perf_counter() - started
    await writer.stop()
    await pool.close()
    return done / elapsed


async def raw_single(
    server: str, rows: list[tuple[Any, ...]], writers: int, seconds: float
) -> float:
    url = await fresh_database(server)
    pool = await asyncpg.create_pool(asyncpg_dsn(url), min_size=writers, max_size=writers)
    done = 0
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def loop() -> None:
        nonlocal done
        async with pool.acquire() as conn:
            while time.perf_counter() < deadline:
                n = next(counter)
                row = rows[n % len(rows)]
                await conn.execute(INSERT, n + 1, _uuid(n), f"account/R{n}", 1, *row[4:])
                done += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(writers)))
    elapsed = time.perf_counter() - started
    await pool.close()
    return done / elapsed


def _uuid(n: int) -> str:
    return f"00000000-0000-7000-8000-{n:012d}"


async def store_bulk(server: str, transactions: int, size: int) -> float:
    url = await fresh_database(server)
    pool = await asyncpg.create_pool(asyncpg_dsn(url))
    store = EventStore(pool, "bench")
    started = time.perf_counter()
    for t in range(transactions):
        async with store.transaction() as tx:
            for i in range(size):
                await tx.append(f"account/T{t}-{i}", 0, [payload(i)])
    elapsed = time.perf_counter() - started
    await pool.close()
    return transactions * size / elapsed


async def raw_bulk(
    server: str, rows: list[tuple[Any, ...]], transactions: int, size: int
) -> dict[str, float]:
    results = {}
    for method in ("executemany", "unnest"):
        url = await fresh_database(server)
        pool = await asyncpg.create_pool(asyncpg_dsn(url))
        started = time.perf_counter()
        for t in range(transactions):
            batch = [
                (t * size + i + 1, _uuid(t * size + i), f"account/R{t}-{i}", 1, *rows[i][4:])
                for i in range(size)
            ]
            async with pool.acquire() as conn, conn.transaction():
                if method == "executemany":
                    await conn.executemany(INSERT, batch)
                else:
                    await conn.execute(UNNEST, *[list(col) for col in zip(*batch, strict=True)])
        results[method] = transactions * size / (time.perf_counter() - started)
        await pool.close()
    return results


async def main() -> None:
    seconds, transactions, size = 4.0, 30, 1000
    with postgres_server() as server:
        rows = await rows_like_the_store(server, size)
        report: dict[str, Any] = {
            "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
            "postgres": "embedded 18, fsync on",
        }
        for writers in (1, 8):
            store_rate = await store_single(server, writers, seconds)
            raw_rate = await raw_single(server, rows, writers, seconds)
            report[f"single_event_tx_{writers}_writers"] = _case(store_rate, raw_rate)
        store_rate = await store_bulk(server, transactions, size)
        raw = await raw_bulk(server, rows, transactions, size)
        case = _case(store_rate, max(raw.values()))
        case["raw_by_method"] = {k: round(v) for k, v in raw.items()}
        report[f"{size}_event_tx"] = case
    report["target"] = "store ≥ 70% of raw in every case"
    report["met"] = all(
        v["ratio"] >= 0.7 for k, v in report.items() if isinstance(v, dict) and "ratio" in v
    )
    print(json.dumps(report, indent=2))


def _case(store_rate: float, raw_rate: float) -> dict[str, Any]:
    return {
        "store_events_per_s": round(store_rate),
        "raw_insert_events_per_s": round(raw_rate),
        "ratio": round(store_rate / raw_rate, 3),
    }


if __name__ == "__main__":
    asyncio.run(main())
