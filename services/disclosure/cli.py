"""`tanhui disclosure rebuild`: replay every topic from offset 0 into a scratch database and
prove the live read models equal it (services/disclosure/rebuild.py)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable

import asyncpg

from libs.servicekit.database import asyncpg_dsn, ensure_database, migrate, with_database
from services.disclosure.rebuild import compare
from services.disclosure.settings import DisclosureSettings

SCRATCH = "tanhui_disclosure_rebuild"


async def _rebuild(settings: DisclosureSettings) -> int:
    scratch_url = with_database(settings.database_url, SCRATCH)
    await _drop(scratch_url)
    await ensure_database(scratch_url)
    await migrate("disclosure", scratch_url)
    live = await asyncpg.connect(asyncpg_dsn(settings.database_url))
    scratch = await asyncpg.connect(asyncpg_dsn(scratch_url))
    try:
        report = await compare(
            settings.kafka_bootstrap_servers, settings.topic_prefix, live, scratch
        )
    finally:
        await live.close()
        await scratch.close()
        await _drop(scratch_url)
    print(f"replayed {report.events:,} events from offset 0 of every topic")
    if report.ok:
        print("OK: every read model equals its replay")
        return 0
    for table in report.differing:
        print(f"DISCREPANCY: {table} differs from its replay")
    return 1


async def _drop(url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(with_database(url, "postgres")))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
    finally:
        await conn.close()


def install(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    commands = parser.add_subparsers(dest="disclosure_command", required=True)
    commands.add_parser(
        "rebuild", help="replay every topic into a scratch database; compare with the live one"
    )
    return lambda _: asyncio.run(_rebuild(DisclosureSettings()))
