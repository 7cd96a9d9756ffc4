"""The one-way auction (单向竞价): announcements, sealed bids, the result."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from libs.problems import PROBLEM_JSON
from libs.servicekit.app import execute_mutation, runtime_of
from libs.servicekit.auth import Principal, require_roles
from libs.servicekit.idempotency import idempotency_key
from services.matching import auction_call, auctions, auctions_store
from services.matching.market import market_of
from services.matching.schemas import (
    AnnounceAuction,
    AuctionResult,
    AuctionView,
    BidTerms,
    BidView,
    NoBody,
)

router = APIRouter(prefix="/v1/auctions", tags=["one-way auction"])
ERRORS = {code: {"content": {PROBLEM_JSON: {}}} for code in (403, 404, 409, 422, 503)}


@router.post(
    "",
    status_code=201,
    response_model=AuctionView,
    responses=ERRORS,
    summary="Announce an auction of your units (member): they are escrowed at once",
)
async def announce(
    body: AnnounceAuction,
    request: Request,
    principal: Principal = Depends(require_roles("member")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await auctions.announce(request, principal, key, body)


@router.get("", response_model=list[AuctionView], summary="Announced auctions (public)")
async def listing(
    request: Request,
    instrument: str | None = Query(default=None, min_length=1, max_length=100),
    status: Literal["bidding", "allocated"] | None = Query(default=None),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[AuctionView]:
    rows = await auctions_store.list_auctions(runtime_of(request).pool, instrument, status, limit)
    return [auctions.auction_view(r) for r in rows]


@router.get(
    "/{auction_id}", response_model=AuctionView, responses=ERRORS, summary="An auction (public)"
)
async def get(auction_id: str, request: Request) -> AuctionView:
    return auctions.auction_view(await auctions.load(runtime_of(request).pool, auction_id))


@router.get(
    "/{auction_id}/result",
    response_model=AuctionResult,
    responses=ERRORS,
    summary="Every allocation and what went unsold (public; empty until the call)",
)
async def result(auction_id: str, request: Request) -> AuctionResult:
    return await auction_call.result(runtime_of(request).pool, auction_id)


@router.post(
    "/{auction_id}/bids",
    status_code=201,
    response_model=BidView,
    responses=ERRORS,
    summary="Bid while bidding is open (member): price × quantity is reserved",
)
async def bid(
    auction_id: str,
    body: BidTerms,
    request: Request,
    principal: Principal = Depends(require_roles("member")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await auctions.bid(request, principal, key, auction_id, body)


@router.get(
    "/{auction_id}/bids",
    response_model=list[BidView],
    responses=ERRORS,
    summary="Your bids in the auction (the market operator: all); bids are sealed",
)
async def bids(
    auction_id: str,
    request: Request,
    principal: Principal = Depends(require_roles("member", "market_operator")),
) -> list[BidView]:
    pool = runtime_of(request).pool
    await auctions.load(pool, auction_id)
    member = None if principal.has_any("market_operator") else principal.org or ""
    return [auctions.bid_view(r) for r in await auctions_store.bids_of(pool, auction_id, member)]


@router.put(
    "/{auction_id}/bids/{bid_id}",
    status_code=201,
    response_model=BidView,
    responses=ERRORS,
    summary="Amend your bid before the close: new terms, new reservation, queued again",
)
async def amend(
    auction_id: str,
    bid_id: str,
    body: BidTerms,
    request: Request,
    principal: Principal = Depends(require_roles("member")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await auctions.amend(request, principal, key, auction_id, bid_id, body)


@router.delete(
    "/{auction_id}/bids/{bid_id}",
    response_model=BidView,
    responses=ERRORS,
    summary="Withdraw your bid before the close; its reservation is released",
)
async def withdraw(
    auction_id: str,
    bid_id: str,
    request: Request,
    principal: Principal = Depends(require_roles("member", "market_operator")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    market = market_of(request)
    return await execute_mutation(
        request,
        principal,
        key,
        NoBody(),
        lambda tx: auctions.withdraw_bid(tx, market, principal, auction_id, bid_id),
        status_code=200,
    )
