"""What a service keeps in memory for one transaction and writes at its flush (`UnitOfWork`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from libs.events.flush_sql import Table


class Deferrals(Protocol):
    """The part of a transaction a unit of work writes through at flush (`EventTransaction`)."""

    def defer_rows(self, table: Table, rows: Sequence[tuple[Any, ...]]) -> None: ...

    def defer_statement(self, statement: str, args: Sequence[Any]) -> None: ...


class UnitOfWork(Protocol):
    """Per-transaction state a service keeps in memory and writes at flush (e.g. the registry's
    book of blocks): many commands' changes, one write. `flush` hands its changes to the
    transaction (`defer_rows`, `defer_statement`) without awaiting anything, so that a flush can
    be taken at any point between two awaits of a command.

    After a commit, `kept()` may hand back state to carry into the process's next transaction
    (`EventTransaction.take_kept`): it is then exactly the database at the new head."""

    def flush(self, tx: Deferrals) -> None: ...

    def kept(self) -> object | None: ...
