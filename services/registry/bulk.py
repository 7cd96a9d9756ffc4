"""`POST /v1/bulk`: up to 10,000 transfers, retirements, holds and releases in one transaction.

`atomic`: all or nothing — the first refusal aborts the request (409, naming the item).
`independent`: a result per item. Either way the whole request is one writer command, so a crash
leaves all of it or none of it, and the Idempotency-Key covers it. Each item runs the same command
as its single endpoint (same checks, same events); the accounts are read once for all items and
the moves are applied in memory and written together (the set-wise path, see `workbook`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from libs.events.store import EventTransaction
from libs.servicekit.auth import Principal
from libs.servicekit.problems import Problem, ValidationFailed
from services.registry import holds, movements
from services.registry.schemas import (
    BulkOperation,
    BulkRequest,
    PlaceHold,
    RetireCredits,
    TransferCredits,
)
from services.registry.workbook import MoveHint


class BulkItemRefused(Problem):
    status, slug, title = 409, "bulk-item-refused", "An item of an atomic bulk request was refused"


Step = Callable[[EventTransaction], Awaitable[BaseModel]]


@dataclass(frozen=True)
class BulkPlan:
    mode: str
    steps: list[Step]
    hint: MoveHint  # every account the items name, read (and locked) in one round trip


def plan_bulk(principal: Principal, body: BulkRequest) -> BulkPlan:
    """Validate every item before anything runs (422 names the first bad one)."""
    steps: list[Step] = []
    holders: set[str] = set()
    others: set[str] = set()
    for index, item in enumerate(body.operations):
        try:
            steps.append(_step(principal, item, holders, others))
        except ValidationFailed as problem:
            raise ValidationFailed(f"operation {index}: {problem.detail}", index=index) from problem
    hint = MoveHint(tuple(sorted(holders)), tuple(sorted(others - holders)), len(steps))
    return BulkPlan(body.mode, steps, hint)


def _step(principal: Principal, item: BulkOperation, holders: set[str], others: set[str]) -> Step:
    fields: dict[str, Any] = dict(item.model_extra or {})
    try:
        if item.op == "transfer":
            transfer = TransferCredits.model_validate(fields)
            holders.add(transfer.from_account)
            others.add(transfer.to_account)
            return lambda tx: movements.transfer(tx, principal, transfer)
        if item.op == "retire":
            retirement = RetireCredits.model_validate(fields)
            holders.add(retirement.account)
            return lambda tx: movements.retire(tx, principal, retirement)
        if item.op == "hold":
            hold = PlaceHold.model_validate(fields)
            holders.add(hold.account)
            return lambda tx: holds.place_hold(tx, principal, hold)
        hold_id = str(fields.get("hold_id", ""))
        return lambda tx: holds.release(tx, principal, hold_id)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise ValidationFailed("; ".join(problems)) from exc


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
                "result": result.model_dump(mode="json"),
                "problem": None,
            }
        )
    return {
        "mode": plan.mode,
        "succeeded": len(results) - failed,
        "failed": failed,
        "results": results,
    }
