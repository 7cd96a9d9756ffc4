"""Pooled connections whose session changed, and the pool's reset of them.

asyncpg's pool resets every connection it takes back (`SELECT pg_advisory_unlock_all(); CLOSE
ALL; UNLISTEN *; RESET ALL`): a round trip on every release, about a tenth of matching's CPU
under load (py-spy). Few connections change their session — the relay's (a setting, an advisory
lock, LISTEN) and a subscription's (LISTEN) — so those are marked here and reset in full when
released; every other connection gets what asyncpg does before the hook for all of them (an
open transaction rolled back, listeners dropped). Pass `reset_changed` as the pool's `reset`.
"""

from __future__ import annotations

from typing import Any

import asyncpg

# Server process ids of the marked connections: unique among live connections to a server
# (an id reused after a connection ended costs one needless full reset).
_changed: set[int] = set()


def session_changed(conn: Any) -> None:
    """Mark a pooled connection (or its pool proxy) as having changed its session."""
    _changed.add(conn.get_server_pid())


async def reset_changed(conn: asyncpg.Connection) -> None:
    """The pool's `reset`: the full reset for a marked connection, nothing for the others."""
    pid = conn.get_server_pid()
    if pid in _changed:
        await conn.execute(conn.get_reset_query())
        _changed.discard(pid)
