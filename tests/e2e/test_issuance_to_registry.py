"""`IssuanceApproved` on tanhui.issuance → the registry issues the batch → disclosure shows it."""

from __future__ import annotations

import asyncio
import time

import asyncpg

from libs.events.contract.issuance import IssuanceApproved
from libs.events.relay import OutboxRelay
from libs.events.store import EventStore
from libs.servicekit.database import asyncpg_dsn
from tests.conftest import Platform
from tests.e2e.conftest import Slice
from tests.e2e.test_registry_movements import holdings
from tests.e2e.test_thin_slice import open_account


async def test_an_approval_is_issued_once_and_disclosed(
    s: Slice, platform: Platform, topics: str
) -> None:
    coop = await open_account(s, "COOP-QP-07")
    # The issuance service's log and relay, standing in for the service (issue 4).
    pool = await asyncpg.create_pool(asyncpg_dsn(await platform.fresh_database("issuance")))
    issuance_log = EventStore(pool, "issuance")
    approval = IssuanceApproved(
        approval_id="APR-0001",
        program="YRDPH",
        project="QP0007",
        vintage=2025,
        quantity=1234,
        buffer_quantity=0,
        account=coop,
        monitoring_period="2025-04-01/2025-10-31",
        batch_id="YRDPH-15-QP0007-2025-001",
    )
    await issuance_log.append("approval/APR-0001", 0, [approval])
    relay = OutboxRelay(
        issuance_log, platform.bootstrap, f"{topics}tanhui.issuance", poll_interval=0.1
    )
    relay_task = asyncio.create_task(relay.run())
    try:
        started = time.monotonic()
        while (
            await s.disclosure.get("/v1/public/issuances/YRDPH-15-QP0007-2025-001")
        ).status_code != 200:
            assert time.monotonic() - started < 15, "the approval did not reach disclosure"
            await asyncio.sleep(0.1)
        # Re-publish the whole log (as after a broker restart): the batch is not issued twice.
        relay_task.cancel()
        await asyncio.gather(relay_task, return_exceptions=True)
        await relay.republish_from(0)
        relay_task = asyncio.create_task(relay.run())
        consumer = s.app.state.runtime.consumers[0]  # type: ignore[attr-defined]
        for _ in range(100):
            if consumer.duplicates >= 1:
                break
            await asyncio.sleep(0.1)
        assert consumer.duplicates >= 1 and consumer.applied == 1
    finally:
        relay_task.cancel()
        await asyncio.gather(relay_task, return_exceptions=True)
        await pool.close()
    mine = await holdings(s, coop)
    assert mine["total"] == 1234
    assert [b["serial"] for b in mine["blocks"]] == ["YRDPH-15-QP0007-2025-001-000000001-000001234"]
