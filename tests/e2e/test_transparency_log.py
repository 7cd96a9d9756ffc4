"""The transparency log as an auditor meets it: services as real processes, `tanhui ledger
verify` run as a command against them — a checkpoint opened with the service's key, every
event re-hashed, the root recomputed, the log's growth proven consistent — and a rewritten
history or another key refused."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from libs.transparency import merkle
from libs.transparency.checkpoint import Checkpoint, Signer, Verifier, load_key
from tests.conftest import Platform
from tests.service_processes import service_processes


def ledger_verify(platform: Platform, url: str, *options: str) -> tuple[int, dict[str, Any]]:
    cli = [sys.executable, "-m", "libs.devstack.cli", "--state-dir", str(platform.state_dir)]
    done = subprocess.run(
        [*cli, "ledger", "verify", url, *options],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, json.loads(done.stdout) if done.stdout else {"stderr": done.stderr}


async def open_accounts(registry: httpx.AsyncClient, admin: dict[str, str], count: int) -> None:
    for n in range(count):
        body = {"owner": f"COOP-{n}", "name": "青浦稻米合作社"}
        opened = await registry.post("/v1/accounts", json=body, headers=admin)
        assert opened.status_code == 201, opened.text


async def test_an_auditor_verifies_each_log_and_its_growth_and_catches_a_rewrite(
    platform: Platform, topics: str, tmp_path: Path
) -> None:
    key_file = tmp_path / "registry-ledger.pem"
    admin = platform.token("ORG-REGISTRY", "registry_admin")
    async with (
        service_processes(
            platform, topics, ("registry", "issuance"), TANHUI_LEDGER_KEY_FILE=str(key_file)
        ) as services,
        httpx.AsyncClient(base_url=services.url["registry"]) as registry,
    ):
        url = services.url["registry"]
        await open_accounts(registry, admin, 3)
        first = tmp_path / "first.checkpoint"
        status, report = await asyncio.to_thread(ledger_verify, platform, url, "--save", str(first))
        assert status == 0 and report["ok"], report
        assert report["origin"] == "tanhui/registry" and report["size"] == 3

        await open_accounts(registry, admin, 4)
        verifier = (await registry.get("/v1/ledger/key")).json()["verifier"]
        status, report = await asyncio.to_thread(
            ledger_verify, platform, url, "--verifier", verifier, "--previous", str(first)
        )
        assert status == 0 and report["consistent_with"] == 3 and report["size"] == 7, report

        # An earlier checkpoint of the same key over another history: the log was rewritten.
        forged = Signer("tanhui/registry", load_key(key_file, create=False)).sign(
            Checkpoint("tanhui/registry", 3, hashlib.sha256(b"another history").digest())
        )
        (tmp_path / "forged.checkpoint").write_text(forged)
        status, report = await asyncio.to_thread(
            ledger_verify, platform, url, "--previous", str(tmp_path / "forged.checkpoint")
        )
        assert status == 1 and report["problems"] == ["the log of 3 was rewritten, not extended"]

        # Another service's key does not open this log's checkpoint.
        async with httpx.AsyncClient(base_url=services.url["issuance"]) as issuance:
            other = (await issuance.get("/v1/ledger/key")).json()
            contract = (await issuance.get("/asyncapi.json")).json()
        assert contract["channels"]["log"]["address"] == f"{topics}tanhui.issuance"
        assert "ProjectCreated" in contract["components"]["messages"]
        assert other["origin"] == "tanhui/issuance"
        status, report = await asyncio.to_thread(
            ledger_verify, platform, url, "--verifier", other["verifier"]
        )
        assert status == 1 and "no signature" in report["stderr"]


async def test_proofs_verify_against_the_signed_checkpoint_and_refuse_what_is_not_there(
    platform: Platform, topics: str
) -> None:
    admin = platform.token("ORG-REGISTRY", "registry_admin")
    async with (
        service_processes(platform, topics, ("registry",)) as services,
        httpx.AsyncClient(base_url=services.url["registry"]) as registry,
    ):
        await open_accounts(registry, admin, 5)
        verifier = Verifier.parse((await registry.get("/v1/ledger/key")).json()["verifier"])
        checkpoint = verifier.open((await registry.get("/v1/ledger/checkpoint")).text)
        assert checkpoint.size == 5
        auditor = platform.token("AUDITOR", "auditor")
        events = (await registry.get("/v1/ledger/events", headers=auditor)).json()["events"]
        third = bytes.fromhex(events[2]["hash"])
        proof = (await registry.get("/v1/ledger/proofs/inclusion?sequence=3")).json()
        assert proof["leaf_hash"] == merkle.leaf_hash(third).hex()
        path = [bytes.fromhex(h) for h in proof["hashes"]]
        assert merkle.verify_inclusion(merkle.leaf_hash(third), 2, 5, path, checkpoint.root)
        assert not merkle.verify_inclusion(merkle.leaf_hash(third), 3, 5, path, checkpoint.root)
        for refused in (
            "/v1/ledger/proofs/inclusion?sequence=6",
            "/v1/ledger/proofs/inclusion?sequence=1&tree_size=6",
            "/v1/ledger/proofs/consistency?first=6",
        ):
            response = await registry.get(refused)
            assert response.status_code == 404, refused
            assert response.headers["content-type"] == "application/problem+json"
        assert (await registry.get("/v1/ledger/proofs/inclusion?sequence=0")).status_code == 422
        assert (await registry.get("/v1/ledger/events")).status_code == 401
