"""Holds: place, release, execute (docs/rest.md)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from libs.problems import PROBLEM_JSON
from libs.servicekit.app import execute_mutation, runtime_of
from libs.servicekit.auth import Principal, require_authenticated
from libs.servicekit.idempotency import idempotency_key
from services.registry import holdings_store, holds
from services.registry.schemas import ExecuteHold, HoldSummary, HoldView, PlaceHold

router = APIRouter(prefix="/v1/holds", tags=["holds"])
ERRORS = {code: {"content": {PROBLEM_JSON: {}}} for code in (403, 404, 409, 422)}


class NoBody(BaseModel):
    pass


@router.get(
    "",
    response_model=list[HoldSummary],
    responses=ERRORS,
    summary="Your organisation's holds placed under a reference (holder; registry_admin: any)",
)
async def by_reference(
    request: Request,
    reference: str = Query(min_length=1, max_length=100),
    principal: Principal = Depends(require_authenticated),
) -> list[HoldSummary]:
    holder = None if principal.has_any("registry_admin") else (principal.org or "")
    rows = await holdings_store.holds_by_reference(runtime_of(request).pool, holder, reference)
    return [HoldSummary(**r) for r in rows]


@router.post(
    "",
    status_code=201,
    response_model=HoldView,
    responses=ERRORS,
    summary="Hold units: escrow (market), pledge (lender) or freeze (regulator)",
)
async def place(
    body: PlaceHold,
    request: Request,
    principal: Principal = Depends(require_authenticated),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request, principal, key, body, lambda tx: holds.place_hold(tx, principal, body)
    )


@router.post(
    "/{hold_id}/release",
    response_model=HoldView,
    responses=ERRORS,
    summary="Release all held units back to available (holder or registry_admin)",
)
async def release(
    hold_id: str,
    request: Request,
    principal: Principal = Depends(require_authenticated),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request,
        principal,
        key,
        NoBody(),
        lambda tx: holds.release(tx, principal, hold_id),
        status_code=200,
    )


@router.post(
    "/{hold_id}/execute",
    response_model=HoldView,
    responses=ERRORS,
    summary="Deliver all or part of the held units to an account (holder or registry_admin)",
)
async def execute(
    hold_id: str,
    body: ExecuteHold,
    request: Request,
    principal: Principal = Depends(require_authenticated),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request,
        principal,
        key,
        body,
        lambda tx: holds.execute(tx, principal, hold_id, body),
        status_code=200,
    )
