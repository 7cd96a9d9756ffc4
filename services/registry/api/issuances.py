"""Issuance by a registry administrator (normally driven by `IssuanceApproved`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from libs.problems import PROBLEM_JSON
from libs.servicekit.app import execute_mutation
from libs.servicekit.auth import Principal, require_roles
from libs.servicekit.idempotency import idempotency_key
from services.registry import service
from services.registry.schemas import IssuanceView, IssueCredits

router = APIRouter(prefix="/v1/issuances", tags=["issuances"])


@router.post(
    "",
    status_code=201,
    response_model=IssuanceView,
    responses={
        403: {"content": {PROBLEM_JSON: {}}},
        404: {"content": {PROBLEM_JSON: {}}},
        409: {"content": {PROBLEM_JSON: {}}},
    },
    summary="Issue a batch of serial-numbered credits",
)
async def issue(
    body: IssueCredits,
    request: Request,
    principal: Principal = Depends(require_roles("registry_admin")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(request, principal, key, body, lambda tx: service.issue(tx, body))
