"""The block agreement (大宗协议): quotes, counters, acceptance, withdrawal."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from libs.problems import PROBLEM_JSON
from libs.servicekit.app import execute_mutation, runtime_of
from libs.servicekit.auth import Principal, current_principal, require_roles
from libs.servicekit.idempotency import idempotency_key
from services.matching import block, block_store
from services.matching.schemas import (
    BlockQuoteView,
    BlockTerms,
    NoBody,
    PostBlockQuote,
    TradeView,
)

router = APIRouter(prefix="/v1/block-quotes", tags=["block agreement"])
ERRORS = {code: {"content": {PROBLEM_JSON: {}}} for code in (403, 404, 409, 422, 503)}


@router.post(
    "",
    status_code=201,
    response_model=BlockQuoteView,
    responses=ERRORS,
    summary="Quote publicly, or propose to one member (member): the maker's leg is secured",
)
async def post(
    body: PostBlockQuote,
    request: Request,
    principal: Principal = Depends(require_roles("member")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await block.post(request, principal, key, body)


@router.get(
    "",
    response_model=list[BlockQuoteView],
    summary="Public quotes and your own negotiations, newest first",
)
async def listing(
    request: Request,
    principal: Principal = Depends(current_principal),
    instrument: str | None = Query(default=None, min_length=1, max_length=100),
    status: Literal["open", "accepted", "withdrawn", "expired"] | None = Query(default=None),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[BlockQuoteView]:
    return await block.listing(runtime_of(request).pool, principal, instrument, status, limit)


@router.get(
    "/{quote_id}",
    response_model=BlockQuoteView,
    responses=ERRORS,
    summary="A quote with its dialogue (a directed proposal: its two parties only)",
)
async def get(
    quote_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> BlockQuoteView:
    pool = runtime_of(request).pool
    row = block.visible(principal, await block_store.get_quote(pool, quote_id))
    return (await block.views(pool, [row]))[0]


@router.post(
    "/{quote_id}/counter",
    status_code=201,
    response_model=BlockQuoteView,
    responses=ERRORS,
    summary="Answer the latest offer with new terms (the side that did not make it)",
)
async def counter(
    quote_id: str,
    body: BlockTerms,
    request: Request,
    principal: Principal = Depends(require_roles("member")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await block.counter(request, principal, key, quote_id, body)


@router.post(
    "/{quote_id}/accept",
    status_code=201,
    response_model=TradeView,
    responses=ERRORS,
    summary="Accept the latest offer (the side that did not make it): the trade",
)
async def accept(
    quote_id: str,
    request: Request,
    body: NoBody | None = None,
    principal: Principal = Depends(require_roles("member")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await block.accept(request, principal, key, quote_id, body or NoBody())


@router.post(
    "/{quote_id}/withdraw",
    response_model=BlockQuoteView,
    responses=ERRORS,
    summary="End the negotiation (either party, or the market operator); legs released",
)
async def withdraw(
    quote_id: str,
    request: Request,
    body: NoBody | None = None,
    principal: Principal = Depends(require_roles("member", "market_operator")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request,
        principal,
        key,
        body or NoBody(),
        lambda tx: block.withdraw(tx, principal, quote_id),
        status_code=200,
    )
