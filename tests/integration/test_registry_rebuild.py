"""Rebuilding the projections from the log reproduces them exactly."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg

from services.registry.audit import verify
from services.registry.rebuild import rebuild
from tests.conftest import Platform
from tests.e2e.conftest import Slice
from tests.integration.test_registry_verify import random_workload, store_of


async def every_kind_of_event(s: Slice, platform: Platform) -> None:
    await random_workload(s, seed=21, steps=40)
    accounts = (await s.registry.get("/v1/accounts", headers=s.admin)).json()["items"]
    a, b = accounts[0]["id"], accounts[1]["id"]
    escrow = await s.registry.post(
        "/v1/holds",
        json={"account": a, "quantity": 3, "purpose": "escrow", "holder": "ORG-REGISTRY"},
        headers=s.admin,
    )
    if escrow.status_code == 201:  # executing an escrow dates the buyer's units (acquired_on)
        await s.registry.post(
            f"/v1/holds/{escrow.json()['id']}/execute", json={"to_account": b}, headers=s.admin
        )
    pledge = await s.registry.post(
        "/v1/holds",
        json={
            "account": b,
            "quantity": 2,
            "purpose": "pledge",
            "holder": "ORG-REGISTRY",
            "expires_at": "2099-01-01T00:00:00Z",
        },
        headers=s.admin,
    )
    assert pledge.status_code == 201, pledge.text
    released = await s.registry.post(f"/v1/holds/{pledge.json()['id']}/release", headers=s.admin)
    assert released.status_code == 200
    await s.registry.post(f"/v1/accounts/{b}/freeze", json={"reason": "x"}, headers=s.admin)


async def test_rebuild_reproduces_every_projection(registry: Slice, platform: Platform) -> None:
    await every_kind_of_event(registry, platform)
    pool: asyncpg.Pool = registry.app.state.runtime.pool  # type: ignore[attr-defined]
    assert await pool.fetchval("SELECT count(*) FROM blocks WHERE acquired_on IS NOT NULL") >= 1
    report = await rebuild(store_of(registry))
    assert report.ok, report.differing
    assert report.events > 40
    assert (await verify(store_of(registry))).ok


async def test_rebuild_reports_a_tampered_projection_and_changes_nothing(
    registry: Slice, platform: Platform
) -> None:
    await every_kind_of_event(registry, platform)
    pool: asyncpg.Pool = registry.app.state.runtime.pool  # type: ignore[attr-defined]
    await pool.execute(
        "UPDATE accounts SET name = 'mallory' WHERE id = (SELECT min(id) FROM accounts)"
    )
    report = await rebuild(store_of(registry))
    assert report.differing == ["accounts"]
    assert await pool.fetchval("SELECT count(*) FROM accounts WHERE name = 'mallory'") == 1


async def test_the_rebuild_cli_reports_and_exits_non_zero_on_a_discrepancy(
    registry: Slice, platform: Platform
) -> None:
    await every_kind_of_event(registry, platform)
    url = registry.app.state.settings.database_url  # type: ignore[attr-defined]
    env = os.environ | {"TANHUI_REGISTRY_DATABASE_URL": url}
    command = [sys.executable, "-m", "libs.devstack.cli", "registry", "rebuild"]
    sound = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True
    )
    assert sound.returncode == 0, sound.stdout + sound.stderr
    assert "OK: every projection table rebuilt" in sound.stdout
    pool: asyncpg.Pool = registry.app.state.runtime.pool  # type: ignore[attr-defined]
    await pool.execute(
        "DELETE FROM unit_events WHERE ctid = (SELECT ctid FROM unit_events LIMIT 1)"
    )
    broken = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True
    )
    assert broken.returncode == 1
    assert "DISCREPANCY: unit_events" in broken.stdout
