"""All SQL of the registry's projections (accounts, batches, blocks, imports)."""

from __future__ import annotations

import asyncpg

from libs.events.store import Queryable
from services.registry.domain.errors import ImportOverlaps
from services.registry.domain.external import ExternalRange
from services.registry.schemas import AccountView

Conn = Queryable


async def next_account_id(conn: Conn) -> str:
    number = await conn.fetchval("SELECT nextval('account_numbers')")
    return f"ACC-{number:06d}"


async def insert_account(
    conn: Conn, account_id: str, owner: str, name: str, kind: str, program: str | None
) -> None:
    await conn.execute(
        "INSERT INTO accounts (id, owner, name, kind, program, status)"
        " VALUES ($1, $2, $3, $4, $5, 'open')",
        account_id,
        owner,
        name,
        kind,
        program,
    )


async def get_account(conn: Conn, account_id: str) -> AccountView | None:
    row = await conn.fetchrow(
        "SELECT id, owner, name, kind, program, status FROM accounts WHERE id = $1", account_id
    )
    return AccountView(**dict(row)) if row else None


async def batch_exists(conn: Conn, batch_id: str) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM batches WHERE batch_id = $1", batch_id))


async def next_batch_seq(conn: Conn, program: str, project: str, vintage: int) -> int:
    value = await conn.fetchval(
        "SELECT coalesce(max(seq), 0) + 1 FROM batches"
        " WHERE program = $1 AND project = $2 AND vintage = $3",
        program,
        project,
        vintage,
    )
    return int(value)


async def last_unit(conn: Conn, project: str) -> int:
    value = await conn.fetchval("SELECT last_unit FROM project_units WHERE project = $1", project)
    return int(value or 0)


async def insert_batch(
    conn: Conn,
    batch_id: str,
    program: str,
    scope: str,
    project: str,
    vintage: int,
    seq: int,
    start: int,
    end: int,
) -> None:
    await conn.execute(
        "INSERT INTO batches (batch_id, program, scope, project, vintage, seq, start_unit,"
        " end_unit) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        batch_id,
        program,
        scope,
        project,
        vintage,
        seq,
        start,
        end,
    )
    await conn.execute(
        "INSERT INTO project_units (project, last_unit) VALUES ($1, $2)"
        " ON CONFLICT (project) DO UPDATE SET last_unit = excluded.last_unit",
        project,
        end,
    )


async def get_account_for_update(conn: Conn, account_id: str) -> AccountView | None:
    row = await conn.fetchrow(
        "SELECT id, owner, name, kind, program, status FROM accounts WHERE id = $1 FOR UPDATE",
        account_id,
    )
    return AccountView(**dict(row)) if row else None


async def set_account_status(conn: Conn, account_id: str, status: str) -> None:
    await conn.execute("UPDATE accounts SET status = $2 WHERE id = $1", account_id, status)


async def list_accounts(
    conn: Conn, owner: str | None, after: str | None, limit: int
) -> list[AccountView]:
    rows = await conn.fetch(
        "SELECT id, owner, name, kind, program, status FROM accounts"
        " WHERE ($1::text IS NULL OR owner = $1) AND ($2::text IS NULL OR id > $2)"
        " ORDER BY id LIMIT $3",
        owner,
        after,
        limit,
    )
    return [AccountView(**dict(r)) for r in rows]


async def next_operation_number(conn: Conn) -> int:
    return int(await conn.fetchval("SELECT nextval('operation_numbers')"))


async def import_overlaps(conn: Conn, source: str, external: ExternalRange) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM imports WHERE source = $1 AND prefix = $2"
            " AND units && int8range($3, $4, '[]')",
            source,
            external.prefix,
            external.first,
            external.last,
        )
    )


async def insert_import(
    conn: Conn,
    import_id: str,
    batch_id: str,
    source: str,
    external_text: tuple[str, str],
    external: ExternalRange,
) -> None:
    try:
        await conn.execute(
            "INSERT INTO imports (id, batch_id, source, external_start, external_end, prefix, units)"
            " VALUES ($1, $2, $3, $4, $5, $6, int8range($7, $8, '[]'))",
            import_id,
            batch_id,
            source,
            *external_text,
            external.prefix,
            external.first,
            external.last,
        )
    except asyncpg.ExclusionViolationError as exc:  # another replica imported it meanwhile
        raise ImportOverlaps("these external serials were imported concurrently") from exc
