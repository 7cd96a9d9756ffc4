"""Carbon points (碳积分): schemes and backings, mint, transfer, redeem, statements."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from libs.problems import PROBLEM_JSON
from libs.servicekit.app import execute_mutation, runtime_of
from libs.servicekit.auth import Principal, require_authenticated, require_roles
from libs.servicekit.idempotency import idempotency_key
from libs.servicekit.pagination import decode_cursor, encode_cursor
from services.registry import points, points_store
from services.registry.finance_schemas import (
    AddPointsBacking,
    CreatePointsScheme,
    MintPoints,
    PointsEntry,
    PointsMovement,
    PointsSchemeView,
    PointsStatement,
    RedeemPoints,
    TransferPoints,
)

router = APIRouter(prefix="/v1/points", tags=["carbon points"])
ERRORS = {code: {"content": {PROBLEM_JSON: {}}} for code in (403, 404, 409, 422)}


@router.post(
    "/schemes",
    status_code=201,
    response_model=PointsSchemeView,
    responses=ERRORS,
    summary="Create a points scheme (registry_admin)",
)
async def create_scheme(
    body: CreatePointsScheme,
    request: Request,
    principal: Principal = Depends(require_roles("registry_admin")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request, principal, key, body, lambda tx: points.create_scheme(tx, body)
    )


@router.get("/schemes", response_model=list[PointsSchemeView], summary="Points schemes (public)")
async def list_schemes(request: Request) -> list[PointsSchemeView]:
    return [points.view(r) for r in await points_store.list_schemes(runtime_of(request).pool)]


@router.get(
    "/schemes/{scheme_id}",
    response_model=PointsSchemeView,
    responses=ERRORS,
    summary="A scheme's backing, minted, redeemed and outstanding points (public)",
)
async def get_scheme(scheme_id: str, request: Request) -> PointsSchemeView:
    return points.view(await points.load(runtime_of(request).pool, scheme_id))


@router.post(
    "/schemes/{scheme_id}/backings",
    status_code=201,
    response_model=PointsSchemeView,
    responses=ERRORS,
    summary="Back a scheme with a retirement (purpose points_backing, the operator's), once",
)
async def add_backing(
    scheme_id: str,
    body: AddPointsBacking,
    request: Request,
    principal: Principal = Depends(require_authenticated),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request, principal, key, body, lambda tx: points.add_backing(tx, principal, scheme_id, body)
    )


@router.post(
    "/mint",
    status_code=201,
    response_model=PointsMovement,
    responses=ERRORS,
    summary="Credit a holder for a low-carbon action (the scheme's operator)",
)
async def mint(
    body: MintPoints,
    request: Request,
    principal: Principal = Depends(require_authenticated),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request,
        principal,
        key,
        body,
        lambda tx: points.mint(tx, principal, body),
        hint=points.mint_hint(body),
    )


@router.post(
    "/transfers",
    status_code=201,
    response_model=PointsMovement,
    responses=ERRORS,
    summary="Move points between holders (the holder, or the operator on its behalf)",
)
async def transfer(
    body: TransferPoints,
    request: Request,
    principal: Principal = Depends(require_authenticated),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request,
        principal,
        key,
        body,
        lambda tx: points.transfer(tx, principal, body),
        hint=points.transfer_hint(body),
    )


@router.post(
    "/redemptions",
    status_code=201,
    response_model=PointsMovement,
    responses=ERRORS,
    summary="Spend (burn) points for an item (the holder, or the operator on its behalf)",
)
async def redeem(
    body: RedeemPoints,
    request: Request,
    principal: Principal = Depends(require_authenticated),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request,
        principal,
        key,
        body,
        lambda tx: points.redeem(tx, principal, body),
        hint=points.redemption_hint(body),
    )


@router.get(
    "/schemes/{scheme_id}/holders/{holder}",
    response_model=PointsStatement,
    responses=ERRORS,
    summary="A holder's balance and statement (the holder, the operator, supervisors)",
)
async def statement(
    scheme_id: str,
    holder: str,
    request: Request,
    principal: Principal = Depends(require_authenticated),
    cursor: str | None = Query(default=None),
    limit: int = Query(default=100, ge=1, le=1000),
) -> PointsStatement:
    pool = runtime_of(request).pool
    scheme = await points.load(pool, scheme_id)
    points.check_reader(principal, scheme, holder)
    rows = await points_store.statement(pool, scheme_id, holder, decode_cursor(cursor), limit)
    return PointsStatement(
        scheme=scheme_id,
        holder=holder,
        balance=await points_store.balance(pool, scheme_id, holder),
        entries=[PointsEntry(**r) for r in rows],
        next_cursor=encode_cursor(rows[-1]["sequence"]) if len(rows) == limit else None,
    )
