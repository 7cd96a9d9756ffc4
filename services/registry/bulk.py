"""`POST /v1/bulk`: up to 10,000 transfers, retirements, holds, releases and hold executions in
one transaction (matching settles its trades' deliveries this way, many per request).

`atomic`: all or nothing — the first refusal aborts the request (409, naming the item).
`independent`: a result per item. Either way the whole request is one writer command, so a crash
leaves all of it or none of it, and the Idempotency-Key covers it. Each item runs the same command
as its single endpoint (same checks, same events); the accounts are read once for all items and
the moves are applied in memory and written together (the set-wise path, see `workbook`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import orjson
from pydantic import Field, TypeAdapter, ValidationError

from libs.events.store import EventTransaction
from libs.problems import Problem, ValidationFailed, listed_errors, validation_failed
from libs.servicekit.auth import Principal
from services.registry import holds, movements
from services.registry.decisions import Decide, run
from services.registry.schemas import (
    MAX_OPERATIONS,
    MAX_QUANTITY,
    BulkExecute,
    BulkHold,
    BulkOperation,
    BulkRequest,
    BulkRetire,
    BulkTransfer,
    HoldView,
    Strict,
)
from services.registry.workbook import MoveHint, work_of


class BulkItemRefused(Problem):
    status, slug, title = 409, "bulk-item-refused", "An item of an atomic bulk request was refused"


# What an item's decision returns; its view is built once the commands are done
# (`bulk_response`), while the server writes the last chunk.
Outcome = movements.Transferred | movements.Retired | HoldView


class Refused(NamedTuple):
    """An item of an `independent` request that was refused: its status and problem body."""

    status: int
    problem: dict[str, Any]


Step = Decide[Outcome]


@dataclass(frozen=True)
class BulkPlan:
    mode: str
    steps: list[Step]


def plan_bulk(principal: Principal, body: BulkRequest) -> BulkPlan:
    """The items were validated with the request (each against its operation's model)."""
    return BulkPlan(body.mode, [_step(principal, item) for item in body.operations])


def hint_of(data: object) -> MoveHint | None:
    """What a request's items will read, from its JSON before validation (see
    `run_bulk_request`): every account an item names, and the units taken from each by plain
    quantity. Tolerant — an item it cannot make sense of is skipped, an odd quantity reads the
    account whole — because the hint only says what to read up front: a command reads whatever
    the first read missed (`Work.accounts`, `AccountPartlyRead`)."""
    operations = data.get("operations") if isinstance(data, dict) else None
    if not isinstance(operations, list) or not 0 < len(operations) <= MAX_OPERATIONS:
        return None
    touched = _Touched()
    for item in operations:
        if isinstance(item, dict):
            touched.note(item)
    return touched.hint(len(operations))


@dataclass
class _Touched:
    """The accounts a bulk request's items name, and the units taken from each by plain
    quantity (all that has to be read of it up front, see `MoveHint.wanted`)."""

    holders: set[str] = field(default_factory=set)
    others: set[str] = field(default_factory=set)
    wanted: dict[str, int] = field(default_factory=dict)
    whole: set[str] = field(default_factory=set)
    holds: set[str] = field(default_factory=set)  # released or executed by an item

    def note(self, item: dict[str, Any]) -> None:
        op = item.get("op")
        if op == "transfer":
            self._taking(item.get("from_account"), _plain_quantity(item))
            if isinstance(target := item.get("to_account"), str):
                self.others.add(target)
        elif op == "retire":
            self._taking(item.get("account"), _plain_quantity(item))
        elif op == "hold":
            self._taking(item.get("account"), None)  # escrow skips units bought today
        elif op in ("release", "execute") and isinstance(hold_id := item.get("hold_id"), str):
            self.holds.add(hold_id)
            if op == "execute" and isinstance(target := item.get("to_account"), str):
                self.others.add(target)

    def _taking(self, account: object, quantity: int | None) -> None:
        if not isinstance(account, str):
            return
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


def _plain_quantity(item: dict[str, Any]) -> int | None:
    """`movements.plain_quantity` of an item not yet validated: None (read the account whole)
    for serials, criteria, or anything but a positive int."""
    quantity = item.get("quantity")
    if type(quantity) is not int or not 0 < quantity <= MAX_QUANTITY:
        return None
    return quantity if item.get("criteria") is None and item.get("serials") is None else None


def _step(principal: Principal, item: BulkOperation) -> Step:
    if isinstance(item, BulkTransfer):
        return lambda work: movements.decide_transfer(work, principal, item)
    if isinstance(item, BulkRetire):
        return lambda work: movements.decide_retirement(work, principal, item)
    if isinstance(item, BulkHold):
        return lambda work: holds.decide_place(work, principal, item)
    if isinstance(item, BulkExecute):
        return lambda work: holds.decide_execution(work, principal, item.hold_id, item)
    return lambda work: holds.decide_release(work, principal, item.hold_id, "released")


async def run_bulk_request(
    tx: EventTransaction, principal: Principal, data: object
) -> orjson.Fragment:
    """Validate and run a bulk request given as parsed JSON, its first read under way while
    the items are validated: the writer passed `hint_of(data)` to the transaction, and the
    read (15–70 ms of PostgreSQL for 10,000 transfers, as the kept book has more or less of
    what they need) no longer waits for the validation
    (~20 ms of Python) and the plan. An invalid request raises its 422 once the read is back
    (it changed nothing). The response is built and rendered while the server writes the
    last chunk (the results' views ~20 ms, orjson 5–20 ms: otherwise spent between the
    commands and after the commit, with the server idle)."""
    reading = asyncio.ensure_future(work_of(tx).read_hinted(tx))
    try:
        body = await _validated(data)
    finally:
        await reading
    plan = plan_bulk(principal, body)
    outcomes = await run_bulk(tx, plan)
    await tx.send_ahead()
    return orjson.Fragment(orjson.dumps(await bulk_response(plan.mode, outcomes)))


class _Envelope(Strict):
    """A bulk request but for its items (validated in slices, see `_validated`)."""

    mode: Literal["atomic", "independent"]
    operations: list[Any] = Field(min_length=1, max_length=MAX_OPERATIONS)


_ITEMS = TypeAdapter(list[BulkOperation])
_SLICE = 1000  # items validated, or views built, between two looks at the event loop (~2 ms)


async def _validated(data: object) -> BulkRequest:
    """`data` as a `BulkRequest`, validated a slice of items at a time so that the first read
    (another task) goes on meanwhile; raises the problem a FastAPI body would have given."""
    try:
        envelope = _Envelope.model_validate(data)
    except ValidationError as exc:
        raise _validation_problem([_in_body(e) for e in exc.errors(include_url=False)]) from exc
    items: list[BulkOperation] = []
    errors: list[dict[str, Any]] = []
    for start in range(0, len(envelope.operations), _SLICE):
        await asyncio.sleep(0)  # let the read's task send its statement / take its rows
        try:
            items += _ITEMS.validate_python(envelope.operations[start : start + _SLICE])
        except ValidationError as exc:
            errors += [_in_body(e, start) for e in exc.errors(include_url=False)]
    if errors:
        raise _validation_problem(errors)
    return BulkRequest.model_construct(mode=envelope.mode, operations=items)


def _in_body(error: Any, first_item: int | None = None) -> dict[str, Any]:
    """A pydantic error located as FastAPI locates a body's: `body, operations, index, …`."""
    loc = tuple(error["loc"])
    if first_item is not None:
        loc = ("operations", first_item + loc[0], *loc[1:])
    return {**error, "loc": ("body", *loc)}


def _validation_problem(errors: Sequence[Any]) -> ValidationFailed:
    """A 422 naming the first invalid item (`index`) and its errors if any item is invalid, or
    the plain 422 for a request invalid elsewhere (its mode, the list itself)."""
    located = [(i, e) for e in errors if (i := _item_index(e)) is not None]
    if not located:
        return validation_failed(errors)
    index = min(i for i, _ in located)
    mine = [e for i, e in located if i == index]
    # loc: body, operations, index[, op tag, field…]
    messages = [": ".join(filter(None, (".".join(map(str, e["loc"][4:])), e["msg"]))) for e in mine]
    detail = f"operation {index}: {'; '.join(messages)}"
    return ValidationFailed(detail, index=index, errors=listed_errors(mine))


def _item_index(error: Any) -> int | None:
    loc = tuple(error.get("loc", ()))
    if len(loc) >= 3 and loc[:2] == ("body", "operations") and isinstance(loc[2], int):
        return loc[2]
    return None


async def run_bulk(tx: EventTransaction, plan: BulkPlan) -> list[Outcome | Refused]:
    """Every item runs the command of its single endpoint, in memory on the transaction's book
    (`workbook`): a refused item raises before it changes anything, so `independent` needs no
    savepoints, and `atomic` stops at the first refusal (the writer rolls everything back).
    Returns each item's outcome (or in `independent` mode its refusal); their views are
    built afterwards (`bulk_response`)."""
    outcomes: list[Outcome | Refused] = []
    for index, step in enumerate(plan.steps):
        try:
            outcomes.append(await run(tx, step))
        except Problem as problem:
            if plan.mode == "atomic":
                raise BulkItemRefused(
                    f"operation {index}: {problem.detail or problem.title}",
                    index=index,
                    problem=problem.body(),
                ) from problem
            outcomes.append(Refused(problem.status, problem.body()))
    return outcomes


async def bulk_response(mode: str, outcomes: list[Outcome | Refused]) -> dict[str, Any]:
    """The `BulkResponse` of `run_bulk`'s outcomes, built as plain dicts (10,000 models cost
    more), looking at the loop between slices: the last chunk sent ahead goes out as soon as
    the server has written the one before it."""
    results: list[dict[str, Any]] = []
    failed = 0
    for index, outcome in enumerate(outcomes):
        if index % _SLICE == 0:
            await asyncio.sleep(0)
        if isinstance(outcome, Refused):
            failed += 1
            results.append(
                {
                    "index": index,
                    "status": outcome.status,
                    "result": None,
                    "problem": outcome.problem,
                }
            )
        else:
            results.append(
                {"index": index, "status": 201, "result": _view(outcome), "problem": None}
            )
    return {
        "mode": mode,
        "succeeded": len(results) - failed,
        "failed": failed,
        "results": results,
    }


def _view(outcome: Outcome) -> dict[str, Any]:
    if isinstance(outcome, HoldView):
        return outcome.model_dump(mode="json")
    return outcome.view()
