"""`verify` replays the log's movements and compares with the live projections."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
from typing import Any

import asyncpg
import pytest

from libs.events.store import EventStore
from libs.servicekit.database import asyncpg_dsn
from services.registry.audit import verify
from tests.conftest import Platform
from tests.e2e.conftest import Slice


async def random_workload(s: Slice, seed: int, steps: int = 60) -> int:
    """Runs the workload; returns how many events it caused (refused operations cause none)."""
    rng = random.Random(seed)
    accounts = []
    for i in range(4):
        body = {"owner": f"ORG-{i}", "name": f"a{i}"}
        response = await s.registry.post("/v1/accounts", json=body, headers=s.admin)
        accounts.append(response.json()["id"])
    events = 4 + 1  # the accounts, then the buffer account opened by the first issuance
    for vintage in (2023, 2024):
        body = {
            "program": "YRDPH",
            "project": "QP0001",
            "vintage": vintage,
            "quantity": 500,
            "account": accounts[0],
            "buffer_quantity": 50,
        }
        response = await s.registry.post("/v1/issuances", json=body, headers=s.admin)
        assert response.status_code == 201
        events += 1
    ccer = {
        "source": "CCER-national",
        "external_start": "C-1",
        "external_end": "C-300",
        "project": "JS0009",
        "vintage": 2023,
        "account": accounts[1],
    }
    assert (await s.registry.post("/v1/imports", json=ccer, headers=s.admin)).status_code == 201
    cancel = {"account": accounts[0], "quantity": 7, "reason": "correction"}
    assert (
        await s.registry.post("/v1/cancellations", json=cancel, headers=s.admin)
    ).status_code == 201
    events += 2
    for _ in range(steps):
        source, target = rng.sample(accounts, 2)
        quantity = rng.randint(1, 120)
        if rng.random() < 0.8:
            body = {"from_account": source, "to_account": target, "quantity": quantity}
            response = await s.registry.post("/v1/transfers", json=body, headers=s.admin)
        else:
            body = {
                "account": source,
                "quantity": quantity,
                "beneficiary": "x",
                "purpose": "voluntary_offset",
            }
            response = await s.registry.post("/v1/retirements", json=body, headers=s.admin)
        assert response.status_code in (201, 409), response.text
        events += response.status_code == 201
    return events


def store_of(s: Slice) -> EventStore:
    return s.app.state.runtime.store  # type: ignore[attr-defined, no-any-return]


def hashing_process(s: Slice, parallel: bool) -> dict[str, Any]:
    """verify's arguments to recompute the hashes in a second process (from the first event)."""
    if not parallel:
        return {}
    url = s.app.state.settings.database_url  # type: ignore[attr-defined]
    return {"dsn": asyncpg_dsn(url), "parallel_from": 1}


@pytest.mark.parametrize("parallel", [False, True])
async def test_verify_passes_after_a_random_workload_and_matches_the_digest_endpoint(
    registry: Slice, parallel: bool
) -> None:
    expected_events = await random_workload(registry, seed=7)
    report = await verify(store_of(registry), **hashing_process(registry, parallel))
    assert report.ok, report.problems
    assert report.events == expected_events > 20
    live = (await registry.registry.get("/v1/ledger/digest", headers=registry.admin)).json()
    assert live["state_digest"] == report.log_digest == report.live_digest
    assert live["sequence"] == report.events


async def test_verify_detects_a_tampered_projection(registry: Slice) -> None:
    await random_workload(registry, seed=11, steps=20)
    pool: asyncpg.Pool = registry.app.state.runtime.pool  # type: ignore[attr-defined]
    await pool.execute(
        "UPDATE blocks SET account_id = 'BUF-YRDPH' WHERE ctid = (SELECT ctid FROM blocks WHERE state = 'available' AND account_id <> 'BUF-YRDPH' LIMIT 1)"
    )
    report = await verify(store_of(registry))
    assert not report.ok
    assert "differs from the live projections" in report.problems[0]


@pytest.mark.parametrize("parallel", [False, True])
async def test_verify_detects_a_tampered_event_even_by_a_superuser(
    registry: Slice, parallel: bool
) -> None:
    await random_workload(registry, seed=13, steps=10)
    pool: asyncpg.Pool = registry.app.state.runtime.pool  # type: ignore[attr-defined]
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE events DISABLE TRIGGER events_no_update_delete")
        await conn.execute(
            "UPDATE events SET data = json_build_object('account_id', 'ACC-MALLORY') WHERE sequence = 2"
        )
        await conn.execute("ALTER TABLE events ENABLE TRIGGER events_no_update_delete")
    report = await verify(store_of(registry), **hashing_process(registry, parallel))
    assert not report.ok
    assert report.problems[0].startswith("hash chain broken at sequence 2")


async def test_ledger_events_are_served_to_auditors_only(
    registry: Slice, platform: Platform
) -> None:
    await random_workload(registry, seed=3, steps=5)
    auditor = platform.token("AUDIT-FIRM", "auditor")
    page = await registry.registry.get("/v1/ledger/events?after=0&limit=5", headers=auditor)
    assert page.status_code == 200
    body = page.json()
    assert [e["sequence"] for e in body["events"]] == [1, 2, 3, 4, 5] and body["next_after"] == 5
    ndjson = await registry.registry.get(
        "/v1/ledger/events?after=5&limit=3", headers=auditor | {"Accept": "application/x-ndjson"}
    )
    assert [line.count('"sequence":') for line in ndjson.text.splitlines()] == [1, 1, 1]
    member = platform.token("ORG-0", "account_holder")
    assert (await registry.registry.get("/v1/ledger/events", headers=member)).status_code == 403


async def test_the_cli_exits_zero_when_sound_and_one_with_a_precise_message(
    registry: Slice,
) -> None:
    await random_workload(registry, seed=5, steps=10)
    url = registry.app.state.settings.database_url  # type: ignore[attr-defined]
    env = os.environ | {"TANHUI_REGISTRY_DATABASE_URL": url}
    command = [sys.executable, "-m", "libs.devstack.cli", "registry", "verify"]
    sound = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True
    )
    assert sound.returncode == 0, sound.stdout + sound.stderr
    assert "OK: hash chain, invariants and replayed state all verify" in sound.stdout
    pool: asyncpg.Pool = registry.app.state.runtime.pool  # type: ignore[attr-defined]
    await pool.execute("DELETE FROM blocks WHERE ctid = (SELECT ctid FROM blocks LIMIT 1)")
    broken = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True
    )
    assert broken.returncode == 1
    assert "DISCREPANCY: state digest from the log" in broken.stdout
