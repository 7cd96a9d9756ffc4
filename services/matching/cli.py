"""`tanhui matching verify`: replay the matching log and compare it with the live tables."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable

import asyncpg

from libs.servicekit.database import asyncpg_dsn
from services.matching.audit import verify
from services.matching.settings import MatchingSettings


async def _verify(database_url: str) -> int:
    pool = await asyncpg.create_pool(asyncpg_dsn(database_url), min_size=1, max_size=2)
    try:
        report = await verify(pool)
    finally:
        await pool.close()
    print(f"replayed {report.events:,} events")
    if report.ok:
        print("OK: instruments, members, listings, orders and trades are what the log implies")
        return 0
    for problem in report.problems:
        print(f"DISCREPANCY: {problem}")
    for table in report.differing:
        print(f"DISCREPANCY: {table} differs from the replayed log")
    return 1


def install(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    commands = parser.add_subparsers(dest="matching_command", required=True)
    commands.add_parser("verify", help="replay the log (the book included) and compare with live")
    return lambda _: asyncio.run(_verify(MatchingSettings().database_url))
