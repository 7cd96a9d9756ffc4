"""Database URLs, creation and Alembic migrations for a service's own database."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from alembic import command
from alembic.config import Config


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def sqlalchemy_url(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"postgresql+asyncpg://{rest}" if scheme in ("postgresql", "postgres") else url


async def ensure_database(url: str, template: str | None = None) -> bool:
    """Create the database named in `url` if absent; True when it was created."""
    name = database_name(url)
    conn = await asyncpg.connect(asyncpg_dsn(with_database(url, "postgres")))
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        clause = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{clause}')
        return True
    finally:
        await conn.close()


def migrations_dir(service: str) -> Path:
    return Path(__file__).resolve().parents[2] / "services" / service / "migrations"


def upgrade(service: str, url: str) -> None:
    """Apply the service's Alembic migrations (blocking; call from a thread in async code)."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir(service)))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url))
    command.upgrade(config, "head")


async def migrate(service: str, url: str) -> None:
    await ensure_database(url)
    await asyncio.to_thread(upgrade, service, url)
