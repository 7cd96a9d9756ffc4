"""Moving a registry test database between schema revisions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from alembic import command
from alembic.config import Config

from libs.servicekit.database import (
    asyncpg_dsn,
    database_name,
    ensure_database,
    migrations_dir,
    sqlalchemy_url,
)


def alembic(url: str, verb: str, revision: str) -> None:
    """`alembic <verb> <revision>` on the registry's migrations."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir("registry")))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url))
    getattr(command, verb)(config, revision)


async def make_every_hash_collide(url: str) -> None:
    """Rebuild the indexes keyed by `hashtextextended` (migration 0012) over a stand-in that
    gives every id the same hash, so that each query and the unique key of `blocks` must tell
    ids apart by the ids themselves. The stand-in is found first on the database's search
    path, by the index definitions and by every later session's queries alike; plpgsql, so
    that the planner cannot fold it into a constant on one side only."""
    async with _session(url) as conn:
        await conn.execute(
            "CREATE FUNCTION public.hashtextextended(value text, seed bigint) RETURNS bigint"
            " LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS 'BEGIN RETURN 7; END'"
        )
        await _stand_in_first(conn, url)
    await asyncio.to_thread(alembic, url, "downgrade", "0011")
    await asyncio.to_thread(alembic, url, "upgrade", "head")
    async with _session(url) as conn:  # a new session: the new search path
        for index in ("blocks_key", "movements_units", "movements_from", "movements_to"):
            definition = await conn.fetchval("SELECT pg_get_indexdef($1::regclass)", index)
            assert "hashtextextended" in definition and "pg_catalog" not in definition, definition


async def clone_with_colliding_hashes(template_url: str, url: str) -> None:
    """A copy of a database `make_every_hash_collide` prepared (its search path is a setting
    of the database, which a copy does not inherit)."""
    await ensure_database(url, template=database_name(template_url))
    async with _session(url) as conn:
        await _stand_in_first(conn, url)
    async with _session(url) as conn:
        assert await conn.fetchval("SELECT hashtextextended('a', 0) = hashtextextended('b', 0)")


@asynccontextmanager
async def _session(url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        yield conn
    finally:
        await conn.close()


async def _stand_in_first(conn: asyncpg.Connection, url: str) -> None:
    """Later sessions look in `public` before `pg_catalog`."""
    await conn.execute(
        f'ALTER DATABASE "{database_name(url)}" SET search_path = public, pg_catalog'
    )
