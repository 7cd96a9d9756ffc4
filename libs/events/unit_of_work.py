"""What a service keeps in memory for one transaction and writes at its flush (`UnitOfWork`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from libs.events.transaction import EventTransaction


class UnitOfWork(Protocol):
    """Per-transaction state a service keeps in memory and writes at flush (e.g. the registry's
    book of blocks): many commands' changes, one write. `flush` hands its changes to the
    transaction (`defer_statement`) without awaiting anything, so that a flush can be taken at
    any point between two awaits of a command.

    After a commit, `kept()` may hand back state to carry into the process's next transaction
    (`EventTransaction.take_kept`): it is then exactly the database at the new head."""

    def flush(self, tx: EventTransaction) -> None: ...

    def kept(self) -> object | None: ...
