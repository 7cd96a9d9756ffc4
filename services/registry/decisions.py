"""How every registry command that touches blocks runs: reads, then a decision, then its effects.

A command is a plain synchronous function `decide(work) -> Decision` over the transaction's
in-memory state (`workbook.Work`: accounts, holds, operation numbers and the book of blocks). It
checks everything, raises a `Problem` to refuse, and returns what it decided — the block splits,
the new blocks, the events with their movements, the hold rows, the rows to defer, and its
result — changing nothing itself. `run` does the rest:

1. **reads** — the batch's first read (every command's `MoveHint`, one round trip) happens
   before the first decision; a decision that meets something not read yet raises `NeedsRead`,
   and `run` reads it and decides again (the numbers it drew are put back first);
2. **decides** — `decide(work)`;
3. **applies** — the splits and new blocks to the book, the events appended (pipelined by the
   transaction), the hold rows and deferred rows handed to the unit of work; all of it is
   written at the flush.

Group commit, pipelined flushes and the kept book are the writer's and the store's business:
nothing here knows of them. The bulk endpoint runs the same decisions, one per item.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from libs.events.catalog import Payload
from libs.events.flush_sql import Table
from libs.events.store import EventTransaction
from services.registry.domain.ledger import Holding, Split
from services.registry.provenance import MovementData, append_movement_event
from services.registry.workbook import NeedsRead, Work, work_of

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True, slots=True)
class Emit:
    """An event to append, with the movements it records (indexed in `movements`)."""

    stream: str
    expected_version: int
    payload: Payload
    movements: list[MovementData]


@dataclass(frozen=True, slots=True)
class NewBatch:
    """The blocks of a batch that did not exist before (an issuance, an import)."""

    holdings: Sequence[Holding]
    program: str
    project: str


@dataclass(frozen=True, slots=True)
class Decision(Generic[T_co]):
    result: T_co
    emits: Sequence[Emit] = ()
    splits: Sequence[Split] = ()  # applied to the book at once (their neighbours are read)
    new: NewBatch | None = None
    holds: Sequence[dict[str, Any]] = ()  # hold rows as they now stand
    rows: Sequence[tuple[Table, list[tuple[Any, ...]]]] = ()  # written at the flush


Decide = Callable[[Work], Decision[T]]


async def run(tx: EventTransaction, decide: Decide[T]) -> T:
    """Read, decide, apply (see the module's docstring); returns the decision's result."""
    work = work_of(tx)
    await work.read_hinted(tx)
    while True:
        work.start_decision()
        try:
            decision = decide(work)
            break
        except NeedsRead as need:
            work.undo_decision()
            await work.read(tx, need)
        except BaseException:
            work.undo_decision()
            raise
    return await _apply(tx, work, decision)


async def _apply(tx: EventTransaction, work: Work, decision: Decision[T]) -> T:
    if decision.splits:
        work.book.apply(decision.splits)
    if decision.new is not None:
        work.add_new(decision.new.holdings, decision.new.program, decision.new.project)
    for emit in decision.emits:
        await append_movement_event(
            tx, emit.stream, emit.expected_version, emit.payload, emit.movements
        )
    for hold in decision.holds:
        work.put_hold(hold)
    for table, rows in decision.rows:
        tx.defer_rows(table, rows)
    return decision.result
