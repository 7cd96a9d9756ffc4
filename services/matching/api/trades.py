"""Trades: one (either side, the market operator), and a member's or the operator's list."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request

from libs.problems import PROBLEM_JSON
from libs.servicekit.app import runtime_of
from libs.servicekit.auth import Principal, current_principal, require_authenticated
from services.matching import store, trades
from services.matching.schemas import TradePage, TradeView

router = APIRouter(prefix="/v1/trades", tags=["trades"])
ERRORS = {code: {"content": {PROBLEM_JSON: {}}} for code in (401, 404)}


@router.get(
    "",
    response_model=TradePage,
    responses=ERRORS,
    summary="Trades: the operator and supervisors see all, a member its own; by status",
)
async def list_trades(
    request: Request,
    principal: Principal = Depends(require_authenticated),
    status: Literal["executed", "settled", "failed"] | None = Query(default=None),
    cursor: int | None = Query(default=None, ge=0),
    limit: int = Query(default=100, ge=1, le=1000),
) -> TradePage:
    everything = principal.has_any("market_operator", "regulator", "auditor")
    member = None if everything else (principal.org or "")
    rows = await store.list_trades(runtime_of(request).pool, status, member, cursor, limit)
    cursor_out = str(rows[-1]["sequence"]) if len(rows) == limit else None
    return TradePage(items=[trades.trade_view(r) for r in rows], next_cursor=cursor_out)


@router.get("/{trade_id}", response_model=TradeView, responses=ERRORS, summary="A trade")
async def get(
    trade_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> TradeView:
    row = await store.get_trade(runtime_of(request).pool, trade_id)
    return trades.trade_view(trades.visible(principal, row))
