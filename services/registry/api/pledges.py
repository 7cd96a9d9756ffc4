"""Pledges over a project's future issuances (质押): pledge, read, release, enforce."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from libs.problems import PROBLEM_JSON
from libs.servicekit.app import execute_mutation, runtime_of
from libs.servicekit.auth import Principal, require_authenticated
from libs.servicekit.idempotency import idempotency_key
from services.registry import pledges
from services.registry.finance_schemas import PledgeProject, ProjectPledgeView
from services.registry.schemas import NoBody

router = APIRouter(prefix="/v1/project-pledges", tags=["pledges"])
ERRORS = {code: {"content": {PROBLEM_JSON: {}}} for code in (403, 404, 409, 422)}


@router.post(
    "",
    status_code=201,
    response_model=ProjectPledgeView,
    responses=ERRORS,
    summary="Pledge a project's future issuances to a lender (the receiving account's owner)",
)
async def pledge(
    body: PledgeProject,
    request: Request,
    principal: Principal = Depends(require_authenticated),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request, principal, key, body, lambda tx: pledges.pledge(tx, principal, body)
    )


@router.get(
    "/{pledge_id}",
    response_model=ProjectPledgeView,
    responses=ERRORS,
    summary="A pledge (its lender, the pledging account's owner, supervisors)",
)
async def get(
    pledge_id: str, request: Request, principal: Principal = Depends(require_authenticated)
) -> ProjectPledgeView:
    return await pledges.readable(runtime_of(request).pool, principal, pledge_id)


@router.post(
    "/{pledge_id}/release",
    response_model=ProjectPledgeView,
    responses=ERRORS,
    summary="Release the pledge (the lender): later issuances are no longer pledged",
)
async def release(
    pledge_id: str,
    request: Request,
    body: NoBody | None = None,
    principal: Principal = Depends(require_authenticated),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request,
        principal,
        key,
        body or NoBody(),
        lambda tx: pledges.release(tx, principal, pledge_id),
        status_code=200,
    )


@router.post(
    "/{pledge_id}/enforce",
    response_model=ProjectPledgeView,
    responses=ERRORS,
    summary="Enforce the pledge (the lender): held units and later issuances' shares to it",
)
async def enforce(
    pledge_id: str,
    request: Request,
    body: NoBody | None = None,
    principal: Principal = Depends(require_authenticated),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request,
        principal,
        key,
        body or NoBody(),
        lambda tx: pledges.enforce(tx, principal, pledge_id),
        status_code=200,
    )
