"""Rebuilding the projections from the log reproduces them exactly."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg

from libs.events.store import EventStore
from libs.servicekit.database import asyncpg_dsn
from services.registry.audit import verify
from services.registry.rebuild import rebuild
from tests.conftest import Platform
from tests.e2e.conftest import Slice
from tests.integration.registry_schema import alembic
from tests.integration.test_registry_verify import random_workload, store_of


async def every_kind_of_event(s: Slice, platform: Platform) -> None:
    await random_workload(s, seed=21, steps=40)
    accounts = (await s.registry.get("/v1/accounts", headers=s.admin)).json()["items"]
    a, b = accounts[0]["id"], accounts[1]["id"]
    escrow = await s.registry.post(
        "/v1/holds",
        json={
            "account": a,
            "quantity": 3,
            "purpose": "escrow",
            "holder": "ORG-REGISTRY",
            "reference": "LST-1",
        },
        headers=s.admin,
    )
    if escrow.status_code == 201:  # delivered under hold, then final: dates the buyer's units
        delivered = await s.registry.post(
            f"/v1/holds/{escrow.json()['id']}/execute",
            json={"to_account": b, "keep_held": True},
            headers=s.admin,
        )
        assert delivered.status_code == 200, delivered.text
        await s.registry.post(
            f"/v1/holds/{delivered.json()['delivered_hold_id']}/execute",
            json={"to_account": b},
            headers=s.admin,
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
    await pool.execute("DELETE FROM movements WHERE ctid = (SELECT ctid FROM movements LIMIT 1)")
    broken = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True
    )
    assert broken.returncode == 1
    assert "DISCREPANCY: movements" in broken.stdout


async def test_the_movements_migration_fills_the_table_from_the_log_and_back(
    registry: Slice, platform: Platform
) -> None:
    """Revision 0011 replaced `unit_events` and `account_entries` by `movements`, filled from
    the log: down and up again, every projection still equals a replay of the log (the rows
    the migration derived are the rows the live writer wrote), and on the way down each
    account's entries are its statement's."""
    await every_kind_of_event(registry, platform)
    accounts = (await registry.registry.get("/v1/accounts", headers=registry.admin)).json()
    statements = {}
    for account in (a["id"] for a in accounts["items"]):
        page = await registry.registry.get(
            f"/v1/accounts/{account}/statement?limit=1000", headers=registry.admin
        )
        statements[account] = [(e["sequence"], e["change"]) for e in page.json()["entries"]]
    url = registry.app.state.settings.database_url  # type: ignore[attr-defined]
    await asyncio.to_thread(alembic, url, "downgrade", "0010")
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await conn.fetch("SELECT account_id, sequence, change FROM account_entries")
        entries: dict[str, list[tuple[int, int]]] = {}
        for r in sorted(rows, key=lambda r: r["sequence"]):
            entries.setdefault(r["account_id"], []).append((r["sequence"], r["change"]))
        assert entries == {a: listed for a, listed in statements.items() if listed}
        assert await conn.fetchval("SELECT count(*) FROM unit_events") > 40
    finally:
        await conn.close()
    await asyncio.to_thread(alembic, url, "upgrade", "head")
    store = EventStore(await asyncpg.create_pool(asyncpg_dsn(url)), "registry")
    try:
        report = await rebuild(store, dry_run=True)
    finally:
        await store.pool.close()
    assert report.ok, report.differing
