"""Disclosure benchmarks, printing JSON.

(a) Projection throughput over a synthetic registry log of `BENCH_EVENTS` (default 200,000)
    mixed events — accounts opened, batches issued, transfers, retirements — encoded as the
    relay publishes them, each time into a fresh database, with the collector settled as a
    service's is after start-up. Target ≥ 50,000 events/s.
    - replay: the log published to a Tansu topic (keyed by stream, as the relay does), then
      replayed as `tanhui disclosure rebuild` replays it (`rebuild.replay`: the topics read from
      offset 0, each event once, runs of 1,000 per transaction through the consumers' run
      handlers), including the final 1.5 s poll that finds the topics' end;
    - live consumer: the live consumer's own steps without the broker — each message decoded,
      the run recorded as processed, then its batch handler — 1,000 events per transaction.
(b) Portal pages with 10,000 public projects (and their histories) in the read model: server
    time (in-process ASGI, no network) p50/p99 of the home page, the projects list and a project
    page, both languages. Target p99 < 200 ms.
(c) End-to-end lag with the platform as `make run` starts it: while bench/registry.py (a)'s
    keyed transfers run (16 clients), an issuance every 200 ms, from its acknowledgement by the
    registry to its batch being served by disclosure's public API (polled every 5 ms).
    Target p99 ≤ 1 s.
`BENCH_PARTS` picks parts (default `abc`).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._calibration import cpu_calibration
from bench._stack import fresh_database, kafka_broker, postgres_server
from libs.events.consumer import decode, record_run
from libs.events.envelope import Envelope
from libs.events.kafka import ensure_topics, new_producer
from libs.servicekit import collector
from libs.servicekit.database import asyncpg_dsn
from services.disclosure.app import create_app
from services.disclosure.consumers import HANDLERS, on_issuance_event, on_registry_events
from services.disclosure.rebuild import replay

EVENTS = int(__import__("os").environ.get("BENCH_EVENTS", "200000"))
PROJECTS = 10_000


def envelope(
    sequence: int, kind: str, subject: str, data: dict[str, Any], source: str = "registry"
) -> Envelope:
    return Envelope.model_construct(
        id=str(uuid.uuid4()),
        source=f"tanhui/{source}",
        type=f"tanhui.{source}.{kind}.v1",
        subject=subject,
        time="2026-12-07T08:00:00.000000Z",
        sequence=sequence,
        streamversion=1,
        actor="bench",
        prevhash="0" * 64,
        hash="0" * 64,
        data=data,
    )


def move(
    batch_id: str, start: int, end: int, source: str | None, to: str | None, to_state: str
) -> dict[str, Any]:
    """A movement out of `source`'s available units (none: issued) into `to`'s `to_state`."""
    origin = {"account": source, "state": "available"} if source else None
    return {
        "batch_id": batch_id,
        "start": start,
        "end": end,
        "from": origin,
        "to": {"account": to, "state": to_state},
    }


def registry_log(count: int) -> list[Envelope]:
    """Accounts, then for each batch: an issuance, a transfer and a retirement of its units."""
    log: list[Envelope] = []
    accounts = [f"ACC-{n:06d}" for n in range(1, 201)]
    for n, account in enumerate(accounts, 1):
        log.append(
            envelope(
                n,
                "AccountOpened",
                f"account/{account}",
                {"account_id": account, "owner": f"ORG-{n}", "name": f"Org {n}", "kind": "holding"},
            )
        )
    batch = 0
    while len(log) < count:
        batch += 1
        batch_id = f"YRDPH-15-QP{batch % 9000:04d}-2024-{batch:03d}"
        holder, buyer = accounts[batch % 200], accounts[(batch * 7) % 200]

        seq = len(log)
        log.append(
            envelope(
                seq + 1,
                "CreditsIssued",
                f"batch/{batch_id}",
                {
                    "batch_id": batch_id,
                    "program": "YRDPH",
                    "scope": "15",
                    "project": f"QP{batch % 9000:04d}",
                    "vintage": 2024,
                    "start": 1,
                    "end": 100,
                    "quantity": 100,
                    "account": holder,
                    "movements": [move(batch_id, 1, 100, None, holder, "available")],
                },
            )
        )
        log.append(
            envelope(
                seq + 2,
                "CreditsTransferred",
                f"transfer/T{batch}",
                {
                    "transfer_id": f"T{batch}",
                    "from_account": holder,
                    "to_account": buyer,
                    "quantity": 40,
                    "movements": [move(batch_id, 1, 40, holder, buyer, "available")],
                },
            )
        )
        log.append(envelope(seq + 3, "CreditsRetired", f"retirement/R{batch}", {
            "retirement_id": f"R{batch}", "account": buyer, "quantity": 10, "beneficiary": "B",
            "purpose": "voluntary_offset", "movements": [move(batch_id, 1, 10, buyer, None, "retired")]}))  # fmt: skip
    return log[:count]


# (Kafka key, value) of each event as the relay publishes it: bytes, which the collector does
# not track (200,000 live envelopes would make every full collection walk them, which no
# service sees).
Messages = list[tuple[bytes, bytes]]


def encoded(log: list[Envelope]) -> Messages:
    return [(e.subject.encode(), orjson.dumps(e.to_json_dict())) for e in log]


async def projection_throughput(server: str) -> dict[str, object]:
    messages = encoded(registry_log(EVENTS))
    collector.settle_after_startup()
    try:
        return {
            "replay": await replay_throughput(server, messages),
            "live_consumer": await live_consumer_throughput(server, messages),
        }
    finally:
        collector.release_at_shutdown()


async def replay_throughput(server: str, messages: Messages) -> dict[str, object]:
    with kafka_broker() as bootstrap:
        prefix = f"bench{uuid.uuid4().hex[:6]}."
        await ensure_topics(bootstrap, [f"{prefix}tanhui.{source}" for source in HANDLERS])
        producer = new_producer(bootstrap)
        await producer.start()
        try:
            topic = f"{prefix}tanhui.registry"
            sent = [await producer.send(topic, key=k, value=v) for k, v in messages]
            await asyncio.gather(*sent)
        finally:
            await producer.stop()
        conn = await asyncpg.connect(asyncpg_dsn(await fresh_database(server, "disclosure")))
        try:
            started = time.perf_counter()
            events = await replay(bootstrap, prefix, conn)
            return rate(events, time.perf_counter() - started)
        finally:
            await conn.close()


async def live_consumer_throughput(server: str, messages: Messages) -> dict[str, object]:
    conn = await asyncpg.connect(asyncpg_dsn(await fresh_database(server, "disclosure")))
    try:
        started = time.perf_counter()
        for first in range(0, len(messages), 1000):
            async with conn.transaction():
                run = [decode(value) for _, value in messages[first : first + 1000]]
                new = await record_run(conn, "bench", run, ["tanhui.registry"] * len(run))
                await on_registry_events(conn, new)  # type: ignore[arg-type]
        return rate(len(messages), time.perf_counter() - started)
    finally:
        await conn.close()


def rate(events: int, seconds: float) -> dict[str, object]:
    return {"events": events, "seconds": round(seconds, 2), "events_per_s": round(events / seconds)}


async def seed_projects(url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        sequence = 0
        async with conn.transaction():
            for n in range(PROJECTS):
                project = f"{('QP', 'WJ', 'JS')[n % 3]}{n:05d}"
                sequence += 1
                await on_issuance_event(
                    conn,
                    envelope(
                        sequence,
                        "ProjectCreated",
                        f"project/{project}",
                        {  # type: ignore[arg-type]
                            "project_id": project,
                            "program": "YRDPH",
                            "county": ("QP", "WJ", "JS")[n % 3],
                            "title": f"稻田甲烷减排项目 {n}",
                            "title_en": f"Rice methane project {n}",
                            "developer": f"COOP-{n}",
                            "methodology": "YRD-AG-M001",
                            "methodology_version": 1,
                            "methodology_parameters": {},
                            "crediting_start": "2024-01-01",
                            "crediting_end": "2030-12-31",
                            "registry_account": "ACC-1",
                        },
                        "issuance",
                    ),
                )
                for step, (frm, to) in enumerate(
                    (("draft", "public_notice"), ("public_notice", "registered"))
                ):
                    sequence += 1
                    await on_issuance_event(
                        conn,
                        envelope(
                            sequence,
                            "ProjectTransitioned",
                            f"project/{project}",
                            {  # type: ignore[arg-type]
                                "project_id": project,
                                "action": f"step{step}",
                                "from_status": frm,
                                "to_status": to,
                                "notice_ends_at": "2026-12-01T00:00:00Z"
                                if to == "public_notice"
                                else None,
                            },
                            "issuance",
                        ),
                    )
    finally:
        await conn.close()


async def page_times(url: str) -> dict[str, object]:
    from services.disclosure.settings import DisclosureSettings

    settings = DisclosureSettings(relay_enabled=False, consumers_enabled=False, env="test")
    settings.database_url = url  # the field reads its own variable; set it as the tests do
    app = create_app(settings)
    results: dict[str, object] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            some = (await client.get("/v1/public/projects?limit=1")).json()["items"][0]["id"]
            for path in (
                "/",
                "/en/",
                "/projects",
                "/en/projects",
                f"/projects/{some}",
                f"/en/projects/{some}",
            ):
                times = []
                for _ in range(30):
                    started = time.perf_counter()
                    response = await client.get(path)
                    times.append(time.perf_counter() - started)
                    assert response.status_code == 200, (path, response.status_code)
                ordered = sorted(times)
                results[path] = {
                    "p50_ms": round(statistics.median(ordered) * 1000, 1),
                    "p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 1),
                }
    return results


async def issuance_lag(
    registry: httpx.AsyncClient, public: httpx.AsyncClient, admin: dict[str, str], account: str
) -> float:
    """Seconds from the registry's acknowledgement of an issuance to disclosure serving it."""
    body = {"program": "YRDPH", "project": "QP0007", "vintage": 2025, "quantity": 10}
    issued = await registry.post("/v1/issuances", json=body | {"account": account}, headers=admin)
    acknowledged = time.perf_counter()
    batch = issued.json()["batch_id"]
    while True:
        if (await public.get(f"/v1/public/issuances/{batch}")).status_code == 200:
            return time.perf_counter() - acknowledged
        await asyncio.sleep(0.005)


async def end_to_end_lag() -> dict[str, object]:
    import tempfile

    from bench import registry as load
    from libs.devstack.stack import Stack
    from libs.servicekit.devtokens import issue_token

    with tempfile.TemporaryDirectory(prefix="tanhui-bench-") as tmp:
        stack = Stack.on_free_ports(Path(tmp))
        await asyncio.to_thread(stack.up)
        urls = stack.urls()
        try:
            token = issue_token(Path(tmp), "ORG-REGISTRY", ["registry_admin"])
            admin = {"Authorization": f"Bearer {token}"}
            async with (
                httpx.AsyncClient(base_url=urls["registry"], timeout=30) as registry,
                httpx.AsyncClient(base_url=urls["disclosure"], timeout=30) as public,
            ):
                accounts = await load.setup(registry, admin)
                lags: list[float] = []

                async def probes() -> None:
                    deadline = time.perf_counter() + load.SECONDS
                    while time.perf_counter() < deadline:
                        lags.append(await issuance_lag(registry, public, admin, accounts[0]))
                        await asyncio.sleep(0.2)

                _, transfers = await asyncio.gather(
                    probes(), load.transfers(urls["registry"], admin, accounts, True)
                )
        finally:
            await asyncio.to_thread(stack.down)
    ordered = sorted(lags)
    return {
        "probes": len(ordered),
        "lag_p50_ms": round(statistics.median(ordered) * 1000, 1),
        "lag_p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 1),
        "lag_max_ms": round(ordered[-1] * 1000, 1),
        "registry_load": transfers,
    }


PARTS = __import__("os").environ.get("BENCH_PARTS", "abc")


async def main() -> None:
    report: dict[str, object] = {}
    calibration = [cpu_calibration()]  # the VM's speed before and after (bench/_calibration.py)
    with postgres_server() as server:
        if "a" in PARTS:
            report["a_projection"] = await projection_throughput(server)
        if "b" in PARTS:
            portal_db = await fresh_database(server, "disclosure")
            await seed_projects(portal_db)
            report["b_portal_10000_projects"] = await page_times(portal_db)
    if "c" in PARTS:
        report["c_end_to_end_lag"] = await end_to_end_lag()
    report["targets"] = {
        "a": "≥ 50,000 events/s",
        "b": "page server time p99 < 200 ms",
        "c": "registry commit → served by disclosure, p99 ≤ 1 s, under registry load",
    }
    report["cpu_calibration_ms"] = [*calibration, cpu_calibration()]
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
