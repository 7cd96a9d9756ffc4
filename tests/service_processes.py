"""Services as real uvicorn processes on free ports, for tests that need a real HTTP server
(keep-alive connections, the fuzzer) or a process they can kill."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from libs.devstack.processes import free_port
from tests.conftest import Platform


def service_env(
    platform: Platform, topics: str, service: str, database_url: str, **extra: str
) -> dict[str, str]:
    """A service process's environment: this test's database, broker, topics and keys."""
    return (
        dict(os.environ)
        | {
            f"TANHUI_{service.upper()}_DATABASE_URL": database_url,
            "TANHUI_ENV": "test",
            "TANHUI_KAFKA_BOOTSTRAP_SERVERS": platform.bootstrap,
            "TANHUI_TOPIC_PREFIX": topics,
            "TANHUI_JWKS_FILE": str(platform.jwks_file),
            "TANHUI_KAFKA_SESSION_TIMEOUT_MS": "2000",
            "TANHUI_DB_POOL_SIZE": "5",
            "TANHUI_LOG_LEVEL": "WARNING",
        }
        | extra
    )


async def start_service(
    service: str, env: dict[str, str], port: int, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """`service` under uvicorn on `port`, once it answers /healthz."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        f"services.{service}.app:create_app",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    output = open(log, "ab") if log is not None else None  # noqa: SIM115, ASYNC230 - the child's
    process = subprocess.Popen(command, env=env, stdout=output, stderr=output)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for _ in range(400):
            if process.poll() is not None:
                break
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return process
            except httpx.HTTPError:
                await asyncio.sleep(0.05)
    process.kill()
    process.wait()
    raise AssertionError(f"{service} did not start")


@dataclass
class ServiceProcesses:
    """Services running as processes; `url[service]` is each one's base URL."""

    url: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)


@asynccontextmanager
async def service_processes(
    platform: Platform, topics: str, services: tuple[str, ...], **extra: str
) -> AsyncIterator[ServiceProcesses]:
    running = ServiceProcesses()
    try:
        for service in services:
            url = (await platform.settings(service, topics)).database_url
            port = free_port()
            env = service_env(platform, topics, service, url, **extra)
            log = platform.state_dir / "logs" / f"{topics}{service}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            running.processes[service] = await start_service(service, env, port, log)
            running.url[service] = f"http://127.0.0.1:{port}"
        yield running
    finally:
        for process in running.processes.values():
            process.terminate()
        for process in running.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
