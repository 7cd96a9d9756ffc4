"""Serial lookup and batch supply (docs/rest.md)."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from libs.problems import PROBLEM_JSON, NotFound
from libs.servicekit.app import runtime_of
from libs.servicekit.auth import Principal, require_authenticated
from libs.servicekit.pagination import decode_cursor, encode_cursor
from services.registry import queries, service, store
from services.registry.domain.errors import MalformedSerialProblem
from services.registry.domain.serials import Block, MalformedSerial, format_block

router = APIRouter(prefix="/v1", tags=["queries"])
ERRORS = {code: {"content": {PROBLEM_JSON: {}}} for code in (404, 422)}


class SerialBlock(BaseModel):
    serial: str
    batch_id: str
    start: int
    end: int
    vintage: int
    account: str | None
    state: str
    hold_id: str | None


class SerialView(BaseModel):
    query: str
    batch_id: str
    blocks: list[SerialBlock]
    events: list[dict[str, Any]]


class SupplyView(BaseModel):
    batch_id: str
    program: str
    project: str
    vintage: int
    issued: int
    available: int
    held: int
    retired: int
    cancelled: int


def parse_serial(text: str) -> Block:
    """A block serial (`…-000000001-000005000`) or one unit (`…-000000042`)."""
    try:
        return Block.parse(text)
    except MalformedSerial:
        pass
    batch_id, _, unit = text.rpartition("-")
    try:
        return Block.parse(f"{batch_id}-{unit}-{unit}")
    except MalformedSerial as exc:
        raise MalformedSerialProblem(
            f"{text!r} is neither a unit serial (batch-000000042) nor a block serial"
        ) from exc


@router.get(
    "/serials/{serial}",
    response_model=SerialView,
    responses=ERRORS,
    summary="Where units are now (owner, state) and every event that touched them",
)
async def serial(
    serial: str, request: Request, principal: Principal = Depends(require_authenticated)
) -> SerialView:
    wanted = parse_serial(serial)
    pool = runtime_of(request).pool
    rows = await queries.blocks_containing(pool, wanted.batch_id, wanted.start, wanted.end)
    # Others see units only while their organisation owns them (ids cannot be probed): a
    # holder of part of the range is shown that part, and the events that touched it.
    if not principal.has_any(*service.READ_ALL_ROLES):
        rows = [r for r in rows if r["owner"] == principal.org]
    if not rows:
        raise NotFound(f"no units {serial} visible to you")
    events = await _events_touching_blocks(pool, wanted.batch_id, rows)
    return SerialView(
        query=serial,
        batch_id=wanted.batch_id,
        blocks=[
            SerialBlock(
                serial=format_block(r["batch_id"], r["start_unit"], r["end_unit"]),
                batch_id=r["batch_id"],
                start=r["start_unit"],
                end=r["end_unit"],
                vintage=r["vintage"],
                account=r["account_id"],
                state=r["state"],
                hold_id=r["hold_id"],
            )
            for r in rows
        ],
        events=events,
    )


async def _events_touching_blocks(
    pool: Any, batch_id: str, rows: list[Any]
) -> list[dict[str, Any]]:
    """The events that touched the units of `rows` (blocks in unit order): one query over
    their span when they are contiguous (the common case), else one per block, merged."""
    if _contiguous(rows):
        return await queries.events_touching(
            pool, batch_id, rows[0]["start_unit"], rows[-1]["end_unit"]
        )
    by_sequence: dict[int, dict[str, Any]] = {}
    for row in rows:
        for event in await queries.events_touching(
            pool, batch_id, row["start_unit"], row["end_unit"]
        ):
            by_sequence[event["sequence"]] = event
    return [by_sequence[sequence] for sequence in sorted(by_sequence)]


def _contiguous(rows: list[Any]) -> bool:
    return all(a["end_unit"] + 1 == b["start_unit"] for a, b in pairwise(rows))


@router.get(
    "/batches/{batch_id}/supply",
    response_model=SupplyView,
    responses=ERRORS,
    summary="Issued = available + held + retired + cancelled, for one batch",
)
async def supply(
    batch_id: str, request: Request, principal: Principal = Depends(require_authenticated)
) -> SupplyView:
    pool = runtime_of(request).pool
    found = await queries.batch(pool, batch_id)
    if found is None:
        raise NotFound(f"no batch {batch_id}")
    by_state = await queries.supply_by_state(pool, batch_id)
    return SupplyView(
        batch_id=batch_id,
        program=found["program"],
        project=found["project"],
        vintage=found["vintage"],
        issued=found["end_unit"] - found["start_unit"] + 1,
        available=by_state.get("available", 0),
        held=by_state.get("held", 0),
        retired=by_state.get("retired", 0),
        cancelled=by_state.get("cancelled", 0),
    )


class StatementEntry(BaseModel):
    sequence: int
    time: str
    event: str
    subject: str
    change: int
    balance: int
    blocks: list[str]


class StatementPage(BaseModel):
    account: str
    entries: list[StatementEntry]
    next_cursor: str | None


@router.get(
    "/accounts/{account_id}/statement",
    response_model=StatementPage,
    responses=ERRORS,
    summary="Every movement of the account with its running balance (available + held)",
)
async def statement(
    account_id: str,
    request: Request,
    principal: Principal = Depends(require_authenticated),
    cursor: str | None = Query(default=None, description="`next_cursor` of the previous page"),
    limit: int = Query(default=100, ge=1, le=1000),
) -> StatementPage:
    pool = runtime_of(request).pool
    service.visible_account(principal, await store.get_account(pool, account_id))
    after = decode_cursor(cursor) or 0
    entries = await queries.statement(pool, account_id, after, limit)
    next_cursor = encode_cursor(entries[-1]["sequence"]) if len(entries) == limit else None
    return StatementPage(
        account=account_id, entries=[StatementEntry(**e) for e in entries], next_cursor=next_cursor
    )
