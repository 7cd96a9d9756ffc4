"""The continuous book: place and cancel orders, read one's own, the aggregated book."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from libs.problems import PROBLEM_JSON
from libs.servicekit.app import execute_mutation, runtime_of
from libs.servicekit.auth import Principal, current_principal, require_roles
from libs.servicekit.idempotency import idempotency_key
from services.matching import instruments, orders, orders_store, store
from services.matching.market import market_of
from services.matching.schemas import BookLevel, BookView, NoBody, OrderView, PlaceOrder

router = APIRouter(tags=["continuous book"])
ERRORS = {code: {"content": {PROBLEM_JSON: {}}} for code in (403, 404, 409, 422, 503)}


@router.post(
    "/v1/orders",
    status_code=201,
    response_model=OrderView,
    responses=ERRORS,
    summary="Place a limit or market order, GTC / IOC / FOK (member)",
)
async def place(
    body: PlaceOrder,
    request: Request,
    principal: Principal = Depends(require_roles("member")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await orders.place(request, principal, key, body)


@router.get(
    "/v1/orders/{order_id}",
    response_model=OrderView,
    responses=ERRORS,
    summary="An order (its member or the market operator)",
)
async def get(
    order_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> OrderView:
    row = await orders_store.get_order(runtime_of(request).pool, order_id)
    return orders.order_view(orders.visible(principal, row))


@router.delete(
    "/v1/orders/{order_id}",
    response_model=OrderView,
    responses=ERRORS,
    summary="Cancel what rests of an order; its leftover escrow or reservation is released",
)
async def cancel(
    order_id: str,
    request: Request,
    principal: Principal = Depends(require_roles("member", "market_operator")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    market = market_of(request)
    answer = await execute_mutation(
        request,
        principal,
        key,
        NoBody(),
        lambda tx: orders.cancel(tx, market, principal, order_id),
        status_code=200,
    )
    market.wake.set()
    return answer


@router.get(
    "/v1/books/{instrument_id}",
    response_model=BookView,
    responses=ERRORS,
    summary="The book aggregated by price level, best first (public)",
)
async def book(
    instrument_id: str, request: Request, levels: int = Query(default=10, ge=1, le=50)
) -> BookView:
    pool = runtime_of(request).pool
    await instruments.load(pool, instrument_id)
    bids = await store.depth(pool, instrument_id, "buy", levels, table="orders")
    asks = await store.depth(pool, instrument_id, "sell", levels, table="orders")
    return BookView(
        instrument=instrument_id,
        bids=[
            BookLevel(price=b["price"], quantity=b["quantity"], orders=b["listings"]) for b in bids
        ],
        asks=[
            BookLevel(price=a["price"], quantity=a["quantity"], orders=a["listings"]) for a in asks
        ],
    )
