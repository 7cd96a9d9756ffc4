"""Every matching replica runs a settlement process (Kubernetes runs two or three): processes
opening settlement batches at the same moment never put one trade in two batches.

Nothing in the batching locks the trades: what keeps the processes apart is the log. A writer
transaction runs optimistically, and one that finds the log's head moved at its flush (another
replica appended meanwhile) runs again with the head locked, so it reads the trades the other
one batched (`libs/events/batch.py`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import asyncpg

from libs.events import CommandWriter, EventStore
from libs.events.batch import STATS
from libs.events.contract.matching import SettlementBatchOpened
from libs.servicekit.database import asyncpg_dsn
from services.matching import store
from services.matching.dvp import _open_batches
from tests.conftest import Platform

REPLICAS = 3
ROUNDS = 8
TRADES_PER_ROUND = 40


def executed_trade(number: int) -> dict[str, object]:
    return {
        "id": f"TRD-{number:06d}",
        "instrument_id": "YRDPH-2024",
        "mode": "listing",
        "price": 5000,
        "quantity": 1,
        "buyer": "ENT-B",
        "seller": "COOP-S",
        "buyer_registry_account": "ACC-B",
        "buyer_cash_account": "CASH-B",
        "seller_registry_account": "ACC-S",
        "seller_cash_account": "CASH-S",
        "listing_id": f"LST-{number:06d}",
        "taker_side": "buy",
        "seller_hold_id": f"HLD-{number:06d}",
        "buyer_reservation_id": f"RSV-{number:06d}",
        "trading_day": date(2026, 12, 8),
        "status": "executed",
        "delivered_hold_id": None,
        "failed_leg": None,
        "failure_reason": None,
        "sequence": number,
        "executed_at": datetime.now(UTC),
        "closed_at": None,
        "taker_order_id": None,
    }


async def test_concurrent_settlement_processes_batch_each_trade_once(platform: Platform) -> None:
    dsn = asyncpg_dsn(await platform.fresh_database("matching"))
    pools = [await asyncpg.create_pool(dsn, min_size=1, max_size=3) for _ in range(REPLICAS)]
    writers = [CommandWriter(EventStore(pool, "matching")) for pool in pools]
    for one in writers:
        await one.start()
    reruns_before = STATS["pessimistic_reruns"]
    try:
        for round_ in range(ROUNDS):
            first = round_ * TRADES_PER_ROUND
            for number in range(first + 1, first + TRADES_PER_ROUND + 1):
                await store.insert_trade(pools[0], executed_trade(number))
            # Every replica opens batches at once, as their settlement passes do when woken.
            await asyncio.gather(*(one.execute(_open_batches) for one in writers))
        assert STATS["pessimistic_reruns"] > reruns_before  # the processes did collide

        rows = await pools[0].fetch("SELECT id, batch_id FROM trades")
        assert len(rows) == ROUNDS * TRADES_PER_ROUND
        assert all(row["batch_id"] is not None for row in rows)
        batch_of = {row["id"]: row["batch_id"] for row in rows}
        opened = [
            SettlementBatchOpened.model_validate(envelope.data)
            for envelope in await writers[0].store.read_after(0, 10_000)
            if envelope.type.endswith(".SettlementBatchOpened.v1")
        ]
        in_events = [trade for event in opened for trade in event.trade_ids]
        assert sorted(in_events) == sorted(batch_of)  # each trade in exactly one batch event
        assert len({event.batch_id for event in opened}) == len(opened)  # names unique
        for event in opened:
            assert {batch_of[trade] for trade in event.trade_ids} == {event.batch_id}
    finally:
        for one in writers:
            await one.stop()
        for pool in pools:
            await pool.close()
