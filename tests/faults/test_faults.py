"""The fault suite: the platform as separate processes (embedded PostgreSQL, Tansu, the four
services on free ports), and an operator's worst minutes — kill -9 of the registry under keyed
load, of the broker, of PostgreSQL, each restarted at once.

The load issues a batch per project and retires part of the account's units after each, both
keyed. After each fault: no acknowledged issuance or retirement lost or applied twice (every
key replays to what it was first answered with; an issuance is its project's first batch), the
registry's `verify` is green, disclosure's public issuances and retirements are exactly the
acknowledged ones, new events still flow, and `/readyz` tells the truth (503 while PostgreSQL
is down). After the broker restart, a reader
starting afresh finds the registry's whole log in its topic again. The figures (requests,
retries, seconds to recover) are printed; the last run's logs stay in `.tanhui/faults/logs`.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from libs.devstack.stack import Stack
from libs.events.store import EventStore
from libs.servicekit.database import asyncpg_dsn
from libs.servicekit.devtokens import issue_token
from services.registry.audit import verify

pytestmark = pytest.mark.integration

KEPT_LOGS = Path(".tanhui/faults/logs")


RETIRED_EACH = 3  # of each issuance's 10 units


@dataclass
class Load:
    """Keyed issuances and retirements through a client that retries as a well-behaved back
    office would."""

    registry: str
    admin: dict[str, str]
    account: str = ""
    acknowledged: dict[str, str] = field(default_factory=dict)  # key → batch id
    retired: dict[str, str] = field(default_factory=dict)  # project → retirement id
    requests: int = 0
    retries: int = 0

    async def issue_and_retire(self, project: str) -> None:
        await self.issue(project)
        await self.retire(project)

    async def issue(self, project: str) -> str:
        key = f"fault-{project}"
        body = {
            "program": "YRDPH",
            "project": project,
            "vintage": 2024,
            "quantity": 10,
            "account": self.account,
        }
        batch: str = (await self._keyed("/v1/issuances", key, body))["batch_id"]
        self.acknowledged[key] = batch
        return batch

    async def retire(self, project: str) -> str:
        body = {
            "account": self.account,
            "quantity": RETIRED_EACH,
            "beneficiary": f"faults {project}",
            "purpose": "voluntary_offset",
        }
        retirement: str = (await self._keyed("/v1/retirements", f"retire-{project}", body))["id"]
        self.retired[project] = retirement
        return retirement

    async def _keyed(
        self, path: str, key: str, body: dict[str, object], deadline: float = 90
    ) -> dict[str, str]:
        give_up = time.monotonic() + deadline
        async with httpx.AsyncClient(base_url=self.registry, headers=self.admin, timeout=10) as c:
            while True:
                self.requests += 1
                try:
                    answer = await c.post(path, json=body, headers={"Idempotency-Key": key})
                    if answer.status_code == 201:
                        return answer.json()  # type: ignore[no-any-return]
                    assert answer.status_code in (502, 503, 504), answer.text
                    assert "retry-after" in answer.headers or answer.status_code != 503
                except httpx.TransportError:
                    pass
                assert time.monotonic() < give_up, f"{key} never succeeded"
                self.retries += 1
                await asyncio.sleep(0.2)


@pytest.fixture(scope="module")
async def platform_processes() -> AsyncIterator[Stack]:
    with tempfile.TemporaryDirectory(prefix="tanhui-faults-") as tmp:
        stack = Stack.on_free_ports(Path(tmp), TANHUI_KAFKA_SESSION_TIMEOUT_MS="2000")
        try:
            await asyncio.to_thread(stack.up)
            yield stack
        finally:
            await asyncio.to_thread(stack.down)
            # Kept for whoever reads a failure: the last run's service, database and broker logs.
            shutil.rmtree(KEPT_LOGS, ignore_errors=True)
            shutil.copytree(stack.state_dir / "logs", KEPT_LOGS)
            for name in ("tansu.log", "postgres.log"):
                with contextlib.suppress(FileNotFoundError):
                    shutil.copy(stack.state_dir / name, KEPT_LOGS)


async def test_kills_and_restarts_lose_nothing_and_the_read_model_catches_up(
    platform_processes: Stack,
) -> None:
    stack = platform_processes
    urls = stack.urls()
    admin = {
        "Authorization": "Bearer "
        + issue_token(stack.state_dir, "ORG-REGISTRY", ["registry_admin"])
    }
    load = Load(urls["registry"], admin)
    async with httpx.AsyncClient(base_url=urls["registry"], headers=admin) as client:
        opened = await client.post("/v1/accounts", json={"owner": "COOP-F", "name": "faults"})
        load.account = opened.json()["id"]
    figures: dict[str, object] = {}
    serial = iter(range(1, 10_000))

    async def issue_some(count: int) -> None:
        projects = [f"QP{next(serial):04d}" for _ in range(count)]
        await asyncio.gather(*(load.issue_and_retire(project) for project in projects))

    await issue_some(10)
    await consistent(stack, load, figures, "before")

    # (a) kill -9 of the registry under keyed load; the clients retry with their keys.
    started = time.monotonic()
    in_flight = asyncio.create_task(issue_some(20))
    await asyncio.sleep(0.3)
    kill_hard(stack.services["registry"])
    await asyncio.to_thread(_restart_service, stack, "registry")
    await in_flight
    figures["registry_kill_recovery_s"] = round(time.monotonic() - started, 1)
    await consistent(stack, load, figures, "registry kill")

    # (b) the broker: Tansu comes back empty (no topics, no offsets).
    started = time.monotonic()
    assert stack.broker is not None and stack.broker.process is not None
    kill_hard(stack.broker.process)
    stack.broker.process = None
    await issue_some(5)  # the registry's own log does not need the broker
    await asyncio.to_thread(stack.broker.start)
    await issue_some(5)
    await consistent(stack, load, figures, "broker restart")
    figures["broker_restart_recovery_s"] = round(time.monotonic() - started, 1)
    await topic_holds_the_whole_log(stack, figures)

    # (c) PostgreSQL: kill -9, a request meanwhile is 503 with Retry-After, /readyz says so.
    started = time.monotonic()
    assert stack.postgres is not None and stack.postgres.process is not None
    kill_hard(stack.postgres.process)
    stack.postgres.process = None
    await database_down_is_503(urls["registry"], admin)
    await asyncio.to_thread(stack.postgres.start)
    await issue_some(10)
    await consistent(stack, load, figures, "database restart")
    figures["database_restart_recovery_s"] = round(time.monotonic() - started, 1)
    figures |= {
        "requests": load.requests,
        "retries": load.retries,
        "acknowledged": len(load.acknowledged),
        "retired": len(load.retired),
    }
    print("\nfault suite figures:", figures)


def kill_hard(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


async def database_down_is_503(registry: str, admin: dict[str, str]) -> None:
    """While PostgreSQL is down a command is 503 with Retry-After, and /readyz says so."""
    async with httpx.AsyncClient(base_url=registry, headers=admin, timeout=15) as client:
        down = await client.post("/v1/accounts", json={"owner": "COOP-G", "name": "down"})
        assert down.status_code == 503 and down.headers["retry-after"], down.text
        assert (await client.get("/readyz")).status_code == 503


async def topic_holds_the_whole_log(stack: Stack, figures: dict[str, object]) -> None:
    """The broker that came back empty gets the registry's whole log again (the relay's
    history check runs every 10 s), readable from offset 0 by a consumer that starts afresh."""
    assert stack.broker is not None
    pool = await asyncpg.create_pool(asyncpg_dsn(stack.env["TANHUI_REGISTRY_DATABASE_URL"]))
    try:
        head, _ = await EventStore(pool, "registry").head()
    finally:
        await pool.close()
    started = time.monotonic()
    while True:
        found = await sequences_in_topic(stack.broker.bootstrap, "tanhui.registry")
        if found >= set(range(1, head + 1)):
            break
        assert time.monotonic() - started < 45, (
            f"tanhui.registry misses {sorted(set(range(1, head + 1)) - found)}"
        )
        await asyncio.sleep(1)
    figures["topic_whole_again_after_broker_restart_s"] = round(time.monotonic() - started, 1)


def _restart_service(stack: Stack, service: str) -> None:
    stack.start_service(service)
    stack.wait_healthy()


async def consistent(
    stack: Stack,
    load: Load,
    figures: dict[str, object],
    after: str,
    read_model_must_match: bool = True,
) -> None:
    """Nothing lost or doubled, verify green, the read model complete, /readyz truthful."""
    urls = stack.urls()
    for key, batch in list(load.acknowledged.items()):
        assert batch.endswith("-001"), f"{key} was applied more than once: {batch}"
        replayed = await load.issue(key.removeprefix("fault-"))
        assert replayed == batch, f"{key} answered {replayed}, first {batch}"
    for project, retirement in list(load.retired.items()):
        replayed = await load.retire(project)
        assert replayed == retirement, f"{project}'s retirement answered {replayed}"
    server = stack.env["TANHUI_REGISTRY_DATABASE_URL"]
    pool = await asyncpg.create_pool(asyncpg_dsn(server), min_size=1, max_size=2)
    try:
        report = await verify(EventStore(pool, "registry"))
        assert report.ok, report.problems
    finally:
        await pool.close()
    started = time.monotonic()
    wanted = set(load.acknowledged.values()) | set(load.retired.values())
    async with httpx.AsyncClient(base_url=urls["disclosure"], timeout=10) as public:
        while True:
            shown = await public_ids(public, "issuances", "batch_id") | await public_ids(
                public, "retirements", "id"
            )
            if shown == wanted:
                break
            assert not shown - wanted, f"after {after}: disclosure shows unknown ones"
            if not read_model_must_match and time.monotonic() - started > 30:
                figures[f"read_model_missing_after_{after.replace(' ', '_')}"] = sorted(
                    wanted - shown
                )
                break
            assert time.monotonic() - started < 60, (
                f"after {after}: disclosure misses {sorted(wanted - shown)}\n"
                + await _pipeline_metrics(urls)
                + _log_tails(stack)
            )
            await asyncio.sleep(0.25)
    figures[f"read_model_caught_up_after_{after.replace(' ', '_')}_s"] = round(
        time.monotonic() - started, 1
    )
    for service, url in urls.items():
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            ready = await client.get("/readyz")
            for _ in range(40):
                if ready.status_code == 200:
                    break
                await asyncio.sleep(0.25)
                ready = await client.get("/readyz")
            assert ready.status_code == 200, (service, after, ready.text)


async def sequences_in_topic(bootstrap: str, topic: str, seconds: float = 3) -> set[int]:
    """Every event sequence a fresh reader finds in `topic`, from offset 0."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await reader.start()
    found: set[int] = set()
    try:
        await reader._client.force_metadata_update()
        partitions = [TopicPartition(topic, p) for p in reader.partitions_for_topic(topic) or ()]
        ends = await reader.end_offsets(partitions)
        reader.assign(partitions)
        for tp in partitions:
            reader.seek(tp, 0)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and [
            tp for tp in partitions if await reader.position(tp) < ends[tp]
        ]:
            for records in (await reader.getmany(timeout_ms=200)).values():
                found |= {orjson.loads(r.value)["sequence"] for r in records}
    finally:
        await reader.stop()
    return found


async def _pipeline_metrics(urls: dict[str, str]) -> str:
    lines = []
    for service, url in urls.items():
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            text = (await client.get("/metrics")).text
        lines += [
            f"{service} {line}"
            for line in text.splitlines()
            if "relay" in line or "consumer" in line
        ]
    return "\n".join(lines) + "\n"


def _log_tails(stack: Stack) -> str:
    logs = sorted((stack.state_dir / "logs").glob("*.log"))
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs)


async def public_ids(client: httpx.AsyncClient, listing: str, id_field: str) -> set[str]:
    """The ids of every item of a public listing (`issuances`, `retirements`)."""
    ids: set[str] = set()
    cursor = None
    while True:
        params = {"limit": 500} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(f"/v1/public/{listing}", params=params)).json()
        ids |= {item[id_field] for item in page["items"]}
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
