"""`POST /v1/bulk`: up to 10,000 transfers, retirements, holds and releases in one transaction.

`atomic`: all or nothing — the first refusal aborts the request (409, naming the item).
`independent`: each item in its own savepoint, a result per item. Either way the whole request is
one writer command, so a crash leaves all of it or none of it, and the Idempotency-Key covers it.
Each item runs the same command as its single endpoint (same checks, same events).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from libs.events.store import EventTransaction
from libs.servicekit.auth import Principal
from libs.servicekit.problems import Problem, ValidationFailed
from services.registry import holds, movements
from services.registry.schemas import (
    BulkItemResult,
    BulkOperation,
    BulkRequest,
    BulkResponse,
    PlaceHold,
    RetireCredits,
    TransferCredits,
)


class BulkItemRefused(Problem):
    status, slug, title = 409, "bulk-item-refused", "An item of an atomic bulk request was refused"


Step = Callable[[EventTransaction], Awaitable[BaseModel]]


def _step(principal: Principal, item: BulkOperation) -> Step:
    fields: dict[str, Any] = dict(item.model_extra or {})
    try:
        if item.op == "transfer":
            transfer = TransferCredits.model_validate(fields)
            return lambda tx: movements.transfer(tx, principal, transfer)
        if item.op == "retire":
            retirement = RetireCredits.model_validate(fields)
            return lambda tx: movements.retire(tx, principal, retirement)
        if item.op == "hold":
            hold = PlaceHold.model_validate(fields)
            return lambda tx: holds.place_hold(tx, principal, hold)
        hold_id = str(fields.get("hold_id", ""))
        return lambda tx: holds.release(tx, principal, hold_id)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise ValidationFailed("; ".join(problems)) from exc


async def run_bulk(tx: EventTransaction, principal: Principal, body: BulkRequest) -> BulkResponse:
    steps = []
    for index, item in enumerate(body.operations):
        try:
            steps.append(_step(principal, item))
        except ValidationFailed as problem:
            raise ValidationFailed(f"operation {index}: {problem.detail}", index=index) from problem
    results = []
    for index, step in enumerate(steps):
        if body.mode == "atomic":
            try:
                result = await step(tx)
            except Problem as problem:
                raise BulkItemRefused(
                    f"operation {index}: {problem.detail or problem.title}",
                    index=index,
                    problem=problem.body(),
                ) from problem
            results.append(
                BulkItemResult(index=index, status=201, result=result.model_dump(mode="json"))
            )
        else:
            results.append(await _isolated(tx, index, step))
    failed = sum(1 for r in results if r.status >= 400)
    return BulkResponse(
        mode=body.mode, succeeded=len(results) - failed, failed=failed, results=results
    )


async def _isolated(tx: EventTransaction, index: int, step: Step) -> BulkItemResult:
    mark = await tx.savepoint()
    try:
        result = await step(tx)
    except Problem as problem:
        await tx.rollback_to(mark)
        return BulkItemResult(index=index, status=problem.status, problem=problem.body())
    await tx.release()
    return BulkItemResult(index=index, status=201, result=result.model_dump(mode="json"))
