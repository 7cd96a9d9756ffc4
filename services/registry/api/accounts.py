"""Accounts: open and read (docs/rest.md)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from libs.problems import PROBLEM_JSON
from libs.servicekit.app import execute_mutation, runtime_of
from libs.servicekit.auth import Principal, require_authenticated, require_roles
from libs.servicekit.idempotency import idempotency_key
from services.registry import service, store
from services.registry.schemas import AccountPage, AccountView, FreezeAccount, OpenAccount

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
    "",
    response_model=AccountPage,
    summary="Your organisation's accounts (auditors, regulators, registry_admin: all)",
)
async def list_accounts(
    request: Request,
    principal: Principal = Depends(require_authenticated),
    cursor: str | None = Query(default=None),
    limit: int = Query(default=100, ge=1, le=1000),
) -> AccountPage:
    owner = None if principal.has_any(*service.READ_ALL_ROLES) else (principal.org or "")
    items = await store.list_accounts(runtime_of(request).pool, owner, cursor, limit)
    return AccountPage(items=items, next_cursor=items[-1].id if len(items) == limit else None)


def _status_route(action: str, frozen: bool, summary: str) -> None:
    """POST /{account_id}/freeze and /unfreeze: the same command with another target status."""

    @router.post(
        f"/{{account_id}}/{action}",
        response_model=AccountView,
        responses={404: {"content": {PROBLEM_JSON: {}}}, 409: {"content": {PROBLEM_JSON: {}}}},
        summary=summary,
        name=action,
    )
    async def change_status(
        account_id: str,
        body: FreezeAccount,
        request: Request,
        principal: Principal = Depends(require_roles("regulator", "registry_admin")),
        key: str | None = Depends(idempotency_key),
    ) -> JSONResponse:
        return await execute_mutation(
            request,
            principal,
            key,
            body,
            lambda tx: service.freeze(tx, account_id, frozen, body.reason),
            status_code=200,
        )


_status_route(
    "freeze", True, "Freeze an account: it can neither send nor receive (regulator, registry_admin)"
)
_status_route("unfreeze", False, "Unfreeze an account (regulator, registry_admin)")


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
