"""Valuations 碳资产评估: positions or an account's holdings marked to market (README)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime

from fastapi import APIRouter, Depends, Path, Query, Request

from libs.problems import PROBLEM_JSON
from libs.servicekit.app import runtime_of
from libs.servicekit.auth import Principal, require_authenticated
from services.disclosure import valuation
from services.disclosure.api.public import EXCHANGE_TIME
from services.disclosure.domain.valuation import Position, Valuation
from services.disclosure.schemas import ValuationLine, ValuationRequest, ValuationView

router = APIRouter(prefix="/v1/valuations", tags=["valuations"])


def today() -> date:
    return datetime.now(EXCHANGE_TIME).date()


def _view(result: Valuation, account: str | None = None) -> ValuationView:
    lines = [ValuationLine(**asdict(line)) for line in result.lines]
    return ValuationView(
        account=account,
        as_of=result.as_of,
        lines=lines,
        total_value=result.total_value,
        unpriced_quantity=result.unpriced_quantity,
    )


@router.post(
    "",
    response_model=ValuationView,
    summary="Value positions at the market's closes (anyone: market data is public)",
)
async def value_positions(body: ValuationRequest, request: Request) -> ValuationView:
    positions = [Position(p.program, p.vintage, p.quantity) for p in body.positions]
    as_of = body.as_of or today()
    return _view(await valuation.of_positions(runtime_of(request).pool, positions, as_of))


@router.get(
    "/accounts/{account_id}",
    response_model=ValuationView,
    responses={
        403: {"content": {PROBLEM_JSON: {}}},
        404: {"content": {PROBLEM_JSON: {}}},
        503: {"content": {PROBLEM_JSON: {}}},
    },
    summary="An account's holdings marked to market (whoever the registry shows them to)",
)
async def value_account(
    request: Request,
    account_id: str = Path(max_length=100, pattern=r"^[A-Za-z0-9._-]+$"),
    as_of: date | None = Query(default=None, description="the day marked; today if absent"),
    _: Principal = Depends(require_authenticated),
) -> ValuationView:
    positions = await valuation.account_positions(
        request.app.state.registry, account_id, request.headers["authorization"]
    )
    day = as_of or today()
    return _view(await valuation.of_positions(runtime_of(request).pool, positions, day), account_id)
