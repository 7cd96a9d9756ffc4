"""The witness (services/disclosure/witness.py) against real registries: a log that grows is
accepted; one rewritten, shrunk or signed by another key is a finding, recorded once, and the
last good checkpoint stays. Two registries on two databases sharing one signing key play a
service whose history was replaced."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx

from libs.servicekit.database import asyncpg_dsn
from services.disclosure import witness_store
from services.disclosure.app import create_app as disclosure_app
from services.disclosure.witness import witness
from services.registry.app import create_app as registry_app
from tests.conftest import Platform, running


@asynccontextmanager
async def registry(
    platform: Platform, topics: str, key: Path | None
) -> AsyncIterator[httpx.AsyncClient]:
    settings = await platform.settings("registry", topics, relay_enabled=False, ledger_key_file=key)
    async with running(registry_app(settings)) as client:  # type: ignore[arg-type]
        yield client


async def open_accounts(
    client: httpx.AsyncClient, admin: dict[str, str], owner: str, n: int
) -> None:
    for _ in range(n):
        body = {"owner": owner, "name": owner}
        assert (await client.post("/v1/accounts", json=body, headers=admin)).status_code == 201


async def test_a_growing_log_is_accepted_and_a_replaced_one_is_a_finding(
    platform: Platform, topics: str, tmp_path: Path
) -> None:
    key, admin = tmp_path / "registry.pem", platform.token("ORG-REGISTRY", "registry_admin")
    settings = await platform.settings("disclosure", topics, witness_seconds=0)
    pool = await asyncpg.create_pool(asyncpg_dsn(settings.database_url), min_size=1, max_size=2)
    try:
        async with registry(platform, topics, key) as honest:
            await open_accounts(honest, admin, "COOP-A", 2)
            assert await witness(pool, "registry", honest) == "accepted"
            await open_accounts(honest, admin, "COOP-A", 2)
            assert await witness(pool, "registry", honest) == "accepted"
            assert await witness(pool, "registry", honest) == "accepted"  # unchanged
        accepted = await witness_store.last(pool, "registry")
        assert accepted is not None and accepted["size"] == 4

        async with registry(platform, topics, key) as replaced:  # same key, another history
            await open_accounts(replaced, admin, "COOP-B", 3)
            assert await witness(pool, "registry", replaced) == "shrank"
            await open_accounts(replaced, admin, "COOP-B", 2)
            assert await witness(pool, "registry", replaced) == "rewritten"
            assert await witness(pool, "registry", replaced) == "rewritten"  # found once
        async with registry(platform, topics, None) as impostor:  # another key
            await open_accounts(impostor, admin, "COOP-A", 5)
            assert await witness(pool, "registry", impostor) == "key-changed"
        assert await witness_store.last(pool, "registry") == accepted  # the last good one stays
        found = [(f["service"], f["problem"]) for f in await witness_store.findings(pool, 10)]
        assert found == [("registry", p) for p in ("key-changed", "rewritten", "shrank")]

        async with running(disclosure_app(settings)) as disclosure:  # type: ignore[arg-type]
            record = (await disclosure.get("/v1/public/witness")).json()
        assert [(log["service"], log["size"]) for log in record["logs"]] == [("registry", 4)]
        assert [f["problem"] for f in record["findings"]] == ["key-changed", "rewritten", "shrank"]
    finally:
        await pool.close()
