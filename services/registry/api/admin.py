"""Registry administration: cancellations and the CCER bridge-in (registry_admin)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from libs.problems import PROBLEM_JSON
from libs.servicekit.app import execute_mutation
from libs.servicekit.auth import Principal, require_roles
from libs.servicekit.idempotency import idempotency_key
from services.registry import imports, movements
from services.registry.schemas import (
    CancelCredits,
    CancellationView,
    ImportCredits,
    ImportView,
)

router = APIRouter(prefix="/v1", tags=["administration"])
ERRORS = {code: {"content": {PROBLEM_JSON: {}}} for code in (403, 404, 409, 422)}
ADMIN = Depends(require_roles("registry_admin"))


@router.post(
    "/cancellations",
    status_code=201,
    response_model=CancellationView,
    responses=ERRORS,
    summary="Cancel units (reversal from a buffer, correction, export) — terminal",
)
async def cancel(
    body: CancelCredits,
    request: Request,
    principal: Principal = ADMIN,
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request, principal, key, body, lambda tx: movements.cancel(tx, body)
    )


@router.post(
    "/imports",
    status_code=201,
    response_model=ImportView,
    responses=ERRORS,
    summary="CCER bridge-in: mirror units from the national registry with their serials",
)
async def import_credits(
    body: ImportCredits,
    request: Request,
    principal: Principal = ADMIN,
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request, principal, key, body, lambda tx: imports.import_credits(tx, body)
    )
