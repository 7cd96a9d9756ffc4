"""Benchmark helpers: a durable embedded PostgreSQL (or DATABASE_URL) and fresh databases."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


async def fresh_database(server_url: str, service: str = "issuance") -> str:
    url = with_database(server_url, f"bench_{uuid.uuid4().hex[:10]}")
    await migrate(service, url)
    return url
