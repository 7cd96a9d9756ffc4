"""Anonymous public disclosure endpoints (docs/domain.md, §8)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from libs.marketdata.bars import CLOSING_MODES, Trade, daily_bars
from libs.problems import PROBLEM_JSON, NotFound
from libs.servicekit.app import runtime_of
from libs.servicekit.pagination import decode_cursor, encode_cursor
from services.disclosure import store
from services.disclosure.schemas import (
    IssuancePage,
    PublicBar,
    PublicDaily,
    PublicInstrument,
    PublicIssuance,
)

BAR_FIELDS = ("open", "high", "low", "close", "volume", "turnover", "vwap")

router = APIRouter(prefix="/v1/public", tags=["public"])


@router.get("/issuances", response_model=IssuancePage, summary="Issued batches, newest first")
async def list_issuances(
    request: Request,
    cursor: str | None = Query(default=None, description="`next_cursor` of the previous page"),
    limit: int = Query(default=50, ge=1, le=500),
) -> IssuancePage:
    after = decode_cursor(cursor)
    rows = await store.list_issuances(runtime_of(request).pool, after, limit)
    next_cursor = encode_cursor(rows[-1][0]) if len(rows) == limit else None
    return IssuancePage(items=[issuance for _, issuance in rows], next_cursor=next_cursor)


@router.get(
    "/issuances/{batch_id}",
    response_model=PublicIssuance,
    responses={404: {"content": {PROBLEM_JSON: {}}}},
    summary="One issued batch with its serial blocks",
)
async def get_issuance(batch_id: str, request: Request) -> PublicIssuance:
    issuance = await store.get_issuance(runtime_of(request).pool, batch_id)
    if issuance is None:
        raise NotFound(f"no issued batch {batch_id}")
    return issuance


@router.get(
    "/market", response_model=list[PublicInstrument], summary="Instruments traded on the exchange"
)
async def market_instruments(request: Request) -> list[PublicInstrument]:
    rows = await store.list_instruments(runtime_of(request).pool)
    return [PublicInstrument(**r) for r in rows]


@router.get(
    "/market/{instrument_id}/daily",
    response_model=PublicDaily,
    responses={404: {"content": {PROBLEM_JSON: {}}}},
    summary="Daily open, high, low, close, volume, turnover and VWAP (prices in fen)",
)
async def market_daily(instrument_id: str, request: Request) -> PublicDaily:
    pool = runtime_of(request).pool
    instrument = await store.get_instrument(pool, instrument_id)
    if instrument is None:
        raise NotFound(f"no instrument {instrument_id}")
    trades = [
        Trade(t["trading_day"], t["price"], t["quantity"], t["mode"] in CLOSING_MODES)
        for t in await store.standing_trades(pool, instrument_id)
    ]
    bars = daily_bars(trades, instrument["reference_price"])
    return PublicDaily(
        instrument=instrument_id,
        days=[PublicBar(date=b.day, **{k: getattr(b, k) for k in BAR_FIELDS}) for b in bars],
    )
