"""The listing agreement: post, the counterparty view, take, withdraw."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from libs.problems import PROBLEM_JSON
from libs.servicekit.app import execute_mutation, runtime_of
from libs.servicekit.auth import Principal, current_principal, require_roles
from libs.servicekit.idempotency import idempotency_key
from services.matching import listings, store
from services.matching.schemas import (
    ListingsBoard,
    ListingView,
    NoBody,
    PostListing,
    TakeListing,
    TradeView,
)

router = APIRouter(prefix="/v1/listings", tags=["listings"])
ERRORS = {code: {"content": {PROBLEM_JSON: {}}} for code in (403, 404, 409, 422, 503)}


@router.post(
    "",
    status_code=201,
    response_model=ListingView,
    responses=ERRORS,
    summary="Post a buy or sell listing (member): a sell escrows its units, a buy reserves cash",
)
async def post(
    body: PostListing,
    request: Request,
    principal: Principal = Depends(require_roles("member")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await listings.post(request, principal, key, body)


@router.get(
    "",
    response_model=ListingsBoard,
    responses=ERRORS,
    summary="The best five price levels of one side, with their listings (public)",
)
async def board(
    request: Request,
    instrument: str = Query(min_length=1, max_length=100),
    side: Literal["buy", "sell"] = Query(),
) -> ListingsBoard:
    return await listings.board(runtime_of(request).pool, instrument, side)


@router.get(
    "/mine",
    response_model=list[ListingView],
    summary="Your organisation's listings, newest first (member)",
)
async def mine(
    request: Request,
    principal: Principal = Depends(require_roles("member")),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[ListingView]:
    rows = await store.member_listings(runtime_of(request).pool, principal.org or "", limit)
    return [listings.listing_view(r) for r in rows]


@router.get(
    "/{listing_id}",
    response_model=ListingView,
    responses=ERRORS,
    summary="A listing (its member or the market operator)",
)
async def get(
    listing_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> ListingView:
    row = await store.get_listing(runtime_of(request).pool, listing_id)
    return listings.listing_view(listings.visible(principal, row))


@router.post(
    "/{listing_id}/take",
    status_code=201,
    response_model=TradeView,
    responses=ERRORS,
    summary="Take a listing among the best five levels at its price (member)",
)
async def take(
    listing_id: str,
    body: TakeListing,
    request: Request,
    principal: Principal = Depends(require_roles("member")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await listings.take(request, principal, key, listing_id, body)


@router.delete(
    "/{listing_id}",
    response_model=ListingView,
    responses=ERRORS,
    summary="Withdraw a listing; its remaining escrow or reservation is released",
)
async def withdraw(
    listing_id: str,
    request: Request,
    principal: Principal = Depends(require_roles("member", "market_operator")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    answer = await execute_mutation(
        request,
        principal,
        key,
        NoBody(),
        lambda tx: listings.withdraw(tx, principal, listing_id),
        status_code=200,
    )
    request.app.state.market.wake.set()
    return answer
