"""Accounts: open and read (DESIGN §8)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from libs.servicekit.app import execute_mutation, runtime_of
from libs.servicekit.auth import Principal, require_authenticated
from libs.servicekit.idempotency import idempotency_key
from libs.servicekit.problems import PROBLEM_JSON
from services.registry import service, store
from services.registry.schemas import AccountView, OpenAccount

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


@router.post(
    "",
    status_code=201,
    response_model=AccountView,
    responses={403: {"content": {PROBLEM_JSON: {}}}, 409: {"content": {PROBLEM_JSON: {}}}},
    summary="Open an account for your organisation (registry_admin: for any owner)",
)
async def open_account(
    body: OpenAccount,
    request: Request,
    principal: Principal = Depends(require_authenticated),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    owner = service.account_owner_for(principal, body)
    return await execute_mutation(
        request, principal, key, body, lambda tx: service.open_account(tx, owner, body)
    )


@router.get(
    "/{account_id}",
    response_model=AccountView,
    responses={404: {"content": {PROBLEM_JSON: {}}}},
    summary="An account (owner, auditors, regulators and registry_admin only)",
)
async def get_account(
    account_id: str, request: Request, principal: Principal = Depends(require_authenticated)
) -> AccountView:
    account = await store.get_account(runtime_of(request).pool, account_id)
    return service.visible_account(principal, account)
