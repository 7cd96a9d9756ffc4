"""`tanhui registry verify | rebuild`: the auditor's and the administrator's checks of the
registry's log against its state."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable

import asyncpg

from libs.events.store import EventStore
from libs.servicekit.database import asyncpg_dsn
from services.registry.audit import verify
from services.registry.rebuild import rebuild
from services.registry.settings import RegistrySettings


def _progress(done: int, total: int) -> None:
    width = 40
    filled = width * done // max(total, 1)
    sys.stderr.write(
        f"\r  verifying [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} events"
    )
    sys.stderr.flush()


async def _verify(database_url: str) -> int:
    dsn = asyncpg_dsn(database_url)
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        report = await verify(EventStore(pool, "registry"), _progress, dsn=dsn)
    finally:
        await pool.close()
    sys.stderr.write("\n")
    rate = report.events / report.seconds if report.seconds else 0.0
    print(f"events: {report.events:,} in {report.seconds:.2f} s ({rate:,.0f}/s)")
    print(f"state digest (log):  {report.log_digest}")
    print(f"state digest (live): {report.live_digest}")
    if report.ok:
        print("OK: hash chain, invariants and replayed state all verify")
        return 0
    for problem in report.problems:
        print(f"DISCREPANCY: {problem}")
    return 1


def verify_command() -> int:
    return asyncio.run(_verify(RegistrySettings().database_url))


async def _rebuild(database_url: str, dry_run: bool) -> int:
    pool = await asyncpg.create_pool(asyncpg_dsn(database_url), min_size=1, max_size=2)
    try:
        report = await rebuild(EventStore(pool, "registry"), dry_run=dry_run)
    finally:
        await pool.close()
    print(f"replayed {report.events:,} events into {len(report.after)} projection tables")
    if report.ok:
        done = "compared and rolled back (dry run)" if dry_run else "rebuilt"
        print(f"OK: every projection table {done}; digests unchanged")
        return 0
    for table in report.differing:
        print(
            f"DISCREPANCY: {table}: live {report.before[table]} != replayed {report.after[table]}"
        )
    print("nothing was changed (the rebuild was rolled back)")
    return 1


def rebuild_command(dry_run: bool) -> int:
    return asyncio.run(_rebuild(RegistrySettings().database_url, dry_run))


def install(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    commands = parser.add_subparsers(dest="registry_command", required=True)
    commands.add_parser(
        "verify",
        help="re-read the whole log: hash chain, invariants, replayed state vs live digest",
    )
    rebuild_parser = commands.add_parser(
        "rebuild", help="drop the projections, replay the log, prove every table is unchanged"
    )
    rebuild_parser.add_argument("--dry-run", action="store_true", help="compare, then roll back")

    def run(args: argparse.Namespace) -> int:
        if args.registry_command == "rebuild":
            return rebuild_command(args.dry_run)
        return verify_command()

    return run
