"""Benchmark helpers: a durable embedded PostgreSQL (or DATABASE_URL), fresh databases, a Tansu
broker (or KAFKA_BOOTSTRAP_SERVERS)."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from libs.devstack.broker import TansuBroker
from libs.devstack.postgres import EmbeddedPostgres
from libs.devstack.processes import free_port
from libs.servicekit.database import migrate, with_database


@contextmanager
def postgres_server() -> Iterator[str]:
    external = os.environ.get("DATABASE_URL")
    if external:
        yield external
        return
    with tempfile.TemporaryDirectory(prefix="tanhui-bench-") as tmp:
        # BENCH_DURABLE=0 turns fsync off: a diagnostic to see what disk flushes cost.
        durable = os.environ.get("BENCH_DURABLE", "1") != "0"
        server = EmbeddedPostgres(Path(tmp), free_port(), durable=durable)
        try:
            yield server.start()
        finally:
            server.stop()


@contextmanager
def kafka_broker() -> Iterator[str]:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    with tempfile.TemporaryDirectory(prefix="tanhui-bench-") as tmp:
        broker = TansuBroker(Path(tmp), free_port())
        try:
            yield broker.start()
        finally:
            broker.stop()


async def fresh_database(server_url: str, service: str = "issuance") -> str:
    url = with_database(server_url, f"bench_{uuid.uuid4().hex[:10]}")
    await migrate(service, url)
    return url


def cpu_seconds(service_pid: int) -> dict[str, float]:
    """CPU seconds (user + system) used so far on this machine by the service process (with its
    children, e.g. uvicorn workers) and by PostgreSQL's processes. Differences around a request
    say what it cost each side, which this VM's noise (±30% wall time between identical runs)
    blurs less than throughput; an external DATABASE_URL counts as 0 here."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    postgres = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # the process ended meanwhile
            continue
        name, fields = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        values = fields.split()
        seconds = (int(values[11]) + int(values[12])) / tick  # utime, stime
        pid = int(entry)
        parents[pid], used[pid] = int(values[1]), seconds
        if name.startswith("postgres"):
            postgres += seconds
    service = sum(s for pid, s in used.items() if _descends_from(pid, service_pid, parents))
    return {"service": service, "postgres": postgres}


def _descends_from(pid: int, ancestor: int, parents: dict[int, int]) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        pid = parents.get(pid, 0)
    return False
