"""The pool's reset (`libs/events/sessions.py`): a connection whose session changed is reset in
full when released; any connection's open transaction is rolled back."""

from __future__ import annotations

import asyncpg

from libs.events.sessions import reset_changed, session_changed
from libs.servicekit.database import asyncpg_dsn


async def test_a_marked_session_is_reset_and_an_open_transaction_is_rolled_back(
    db_url: str,
) -> None:
    pool = await asyncpg.create_pool(
        asyncpg_dsn(db_url), min_size=1, max_size=1, reset=reset_changed
    )
    try:
        async with pool.acquire() as conn:
            default = await conn.fetchval("SHOW work_mem")
            session_changed(conn)
            await conn.execute("SET work_mem = '77MB'")
            await conn.execute("SELECT pg_advisory_lock(4242)")
            await conn.execute("LISTEN tanhui_test")
        async with pool.acquire() as conn:  # the only connection: the same session
            assert await conn.fetchval("SHOW work_mem") == default != "77MB"
            assert (
                await conn.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
                == 0
            )
            assert await conn.fetchval("SELECT count(*) FROM pg_listening_channels()") == 0
            await conn.execute("CREATE TABLE IF NOT EXISTS session_probe (n int)")
            transaction = conn.transaction()
            await transaction.start()
            await conn.execute("INSERT INTO session_probe VALUES (1)")
        async with pool.acquire() as conn:  # released mid-transaction: rolled back
            assert await conn.fetchval("SELECT count(*) FROM session_probe") == 0
    finally:
        await pool.close()
