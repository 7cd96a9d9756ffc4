"""`POST /v1/bulk`: up to 10,000 transfers, retirements, holds and releases in one transaction.

`atomic`: all or nothing — the first refusal aborts the request (409, naming the item).
`independent`: a result per item. Either way the whole request is one writer command, so a crash
leaves all of it or none of it, and the Idempotency-Key covers it. Each item runs the same command
as its single endpoint (same checks, same events); the accounts are read once for all items and
the moves are applied in memory and written together (the set-wise path, see `workbook`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from libs.events.store import EventTransaction
from libs.servicekit.auth import Principal
from libs.servicekit.problems import Problem, ValidationFailed
from services.registry import holds, movements
from services.registry.schemas import (
    BulkHold,
    BulkOperation,
    BulkRequest,
    BulkRetire,
    BulkTransfer,
)
from services.registry.workbook import MoveHint


class BulkItemRefused(Problem):
    status, slug, title = 409, "bulk-item-refused", "An item of an atomic bulk request was refused"


Step = Callable[[EventTransaction], Awaitable[BaseModel | dict[str, Any]]]


@dataclass(frozen=True)
class BulkPlan:
    mode: str
    steps: list[Step]
    hint: MoveHint  # every account the items name, read (and locked) in one round trip


def plan_bulk(principal: Principal, body: BulkRequest) -> BulkPlan:
    """The items were validated with the request (each against its operation's model)."""
    steps: list[Step] = []
    touched = _Touched()
    for item in body.operations:
        steps.append(_step(principal, item, touched))
    return BulkPlan(body.mode, steps, touched.hint(len(steps)))


@dataclass
class _Touched:
    """The accounts a bulk request's items name, and the units taken from each by plain
    quantity (all that has to be read of it up front, see `MoveHint.wanted`)."""

    holders: set[str] = field(default_factory=set)
    others: set[str] = field(default_factory=set)
    wanted: dict[str, int] = field(default_factory=dict)
    whole: set[str] = field(default_factory=set)
    holds: set[str] = field(default_factory=set)  # released by an item

    def taking(self, account: str, quantity: int | None) -> None:
        self.holders.add(account)
        if quantity is None:
            self.whole.add(account)
        else:
            self.wanted[account] = self.wanted.get(account, 0) + quantity

    def hint(self, numbers: int) -> MoveHint:
        wanted = tuple(sorted((a, q) for a, q in self.wanted.items() if a not in self.whole))
        others = tuple(sorted(self.others - self.holders))
        holds = tuple(sorted(self.holds))
        return MoveHint(tuple(sorted(self.holders)), others, numbers, wanted, holds)


def _step(principal: Principal, item: BulkOperation, touched: _Touched) -> Step:
    if isinstance(item, BulkTransfer):
        touched.taking(item.from_account, movements.plain_quantity(item))
        touched.others.add(item.to_account)
        return lambda tx: movements.transfer(tx, principal, item)
    if isinstance(item, BulkRetire):
        touched.taking(item.account, movements.plain_quantity(item))
        return lambda tx: movements.retire(tx, principal, item)
    if isinstance(item, BulkHold):
        touched.taking(item.account, None)  # escrow skips units bought today: read it all
        return lambda tx: holds.place_hold(tx, principal, item)
    touched.holds.add(item.hold_id)
    return lambda tx: holds.release(tx, principal, item.hold_id)


def validation_problem(errors: Sequence[Any]) -> ValidationFailed | None:
    """A 422 naming the first invalid item (`index`) for errors located in `operations`, or
    None if the request is invalid elsewhere (its mode, the list itself)."""
    located = [(i, e) for e in errors if (i := _item_index(e)) is not None]
    if not located:
        return None
    index = min(i for i, _ in located)
    mine = [e for i, e in located if i == index]
    # loc: body, operations, index[, op tag, field…]
    messages = [": ".join(filter(None, (".".join(map(str, e["loc"][4:])), e["msg"]))) for e in mine]
    listed = [
        {"location": ".".join(map(str, e["loc"])), "message": e["msg"], "type": e["type"]}
        for e in mine
    ]
    return ValidationFailed(f"operation {index}: {'; '.join(messages)}", index=index, errors=listed)


def _item_index(error: Any) -> int | None:
    loc = tuple(error.get("loc", ()))
    if len(loc) >= 3 and loc[:2] == ("body", "operations") and isinstance(loc[2], int):
        return loc[2]
    return None


async def run_bulk(tx: EventTransaction, plan: BulkPlan) -> dict[str, Any]:
    """Every item runs the command of its single endpoint, in memory on the transaction's book
    (`workbook`): a refused item raises before it changes anything, so `independent` needs no
    savepoints, and `atomic` stops at the first refusal (the writer rolls everything back).
    The response (`BulkResponse`'s shape) is built as plain dicts: 10,000 models cost more."""
    results: list[dict[str, Any]] = []
    failed = 0
    for index, step in enumerate(plan.steps):
        try:
            result = await step(tx)
        except Problem as problem:
            if plan.mode == "atomic":
                raise BulkItemRefused(
                    f"operation {index}: {problem.detail or problem.title}",
                    index=index,
                    problem=problem.body(),
                ) from problem
            failed += 1
            results.append(
                {
                    "index": index,
                    "status": problem.status,
                    "result": None,
                    "problem": problem.body(),
                }
            )
            continue
        results.append(
            {
                "index": index,
                "status": 201,
                "result": result if isinstance(result, dict) else result.model_dump(mode="json"),
                "problem": None,
            }
        )
    return {
        "mode": plan.mode,
        "succeeded": len(results) - failed,
        "failed": failed,
        "results": results,
    }
