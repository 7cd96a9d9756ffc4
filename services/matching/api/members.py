"""Members: admit and list (market operator); a member reads its own record."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from libs.problems import PROBLEM_JSON
from libs.servicekit.app import execute_mutation, runtime_of
from libs.servicekit.auth import Principal, current_principal, require_roles
from libs.servicekit.idempotency import idempotency_key
from services.matching import members, store
from services.matching.domain.errors import UnknownMember
from services.matching.market import market_of
from services.matching.schemas import AdmitMember, MemberView

router = APIRouter(prefix="/v1/members", tags=["members"])
ERRORS = {code: {"content": {PROBLEM_JSON: {}}} for code in (403, 404, 409, 422)}


@router.post(
    "",
    status_code=201,
    response_model=MemberView,
    responses=ERRORS,
    summary="Admit an organisation with its registry and cash accounts (market_operator)",
)
async def admit(
    body: AdmitMember,
    request: Request,
    principal: Principal = Depends(require_roles("market_operator")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    now = market_of(request).now()
    return await execute_mutation(
        request, principal, key, body, lambda tx: members.admit(tx, body, now)
    )


@router.get("", response_model=list[MemberView], summary="Every member (market_operator)")
async def list_all(
    request: Request, principal: Principal = Depends(require_roles("market_operator"))
) -> list[MemberView]:
    return [MemberView(**m) for m in await store.list_members(runtime_of(request).pool)]


@router.get(
    "/{org}",
    response_model=MemberView,
    responses=ERRORS,
    summary="A member (itself or the operator)",
)
async def get(
    org: str, request: Request, principal: Principal = Depends(current_principal)
) -> MemberView:
    member = await store.get_member(runtime_of(request).pool, org)
    if member is None or not (principal.has_any("market_operator") or principal.org == org):
        raise UnknownMember()
    return MemberView(**member)
