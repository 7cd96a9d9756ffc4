"""Which failures mean "the database could not be reached", as opposed to a bad command.

A request that meets one gets 503 with Retry-After (nothing was written); a consumer that
meets one leaves the message uncommitted and tries again later, instead of counting it as a
failed attempt on its way to the dead-letter topic.
"""

from __future__ import annotations

import asyncpg

DATABASE_UNREACHABLE: tuple[type[Exception], ...] = (
    OSError,  # refused, reset, timed out (TimeoutError is an OSError)
    asyncpg.InterfaceError,  # a connection closed or taken back by the pool under us
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.exceptions.OperatorInterventionError,  # class 57: shutdown, crash, starting up
    asyncpg.TooManyConnectionsError,
)


def database_unreachable(error: BaseException) -> bool:
    return isinstance(error, DATABASE_UNREACHABLE)
