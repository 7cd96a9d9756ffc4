"""Carbon labels (碳标签): issue, read (public), revoke."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from libs.problems import PROBLEM_JSON
from libs.servicekit.app import execute_mutation, runtime_of
from libs.servicekit.auth import Principal, require_authenticated
from libs.servicekit.idempotency import idempotency_key
from services.registry import labels, labels_store
from services.registry.domain.labels import UnknownLabel
from services.registry.finance_schemas import IssueLabel, LabelView, RevokeLabel

router = APIRouter(prefix="/v1/labels", tags=["carbon labels"])
ERRORS = {code: {"content": {PROBLEM_JSON: {}}} for code in (403, 404, 409, 422)}


@router.post(
    "",
    status_code=201,
    response_model=LabelView,
    responses=ERRORS,
    summary="Issue a label backed by your own carbon_label retirement → its public code",
)
async def issue(
    body: IssueLabel,
    request: Request,
    principal: Principal = Depends(require_authenticated),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request, principal, key, body, lambda tx: labels.issue(tx, principal, body)
    )


@router.get("/{code}", response_model=LabelView, responses=ERRORS, summary="A label (public)")
async def get(code: str, request: Request) -> LabelView:
    row = await labels_store.get_label(runtime_of(request).pool, code)
    if row is None:
        raise UnknownLabel()
    return labels.view(row)


@router.post(
    "/{code}/revoke",
    response_model=LabelView,
    responses=ERRORS,
    summary="Revoke a label (its owner, registry_admin); it stays shown, marked",
)
async def revoke(
    code: str,
    body: RevokeLabel,
    request: Request,
    principal: Principal = Depends(require_authenticated),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request,
        principal,
        key,
        body,
        lambda tx: labels.revoke(tx, principal, code, body.reason),
        status_code=200,
    )
