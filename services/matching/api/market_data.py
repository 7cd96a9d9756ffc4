"""Market data (public): quote, trades, daily bars, depth. Failed trades never count."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from libs.marketdata.bars import CLOSING_MODES, Trade, daily_bars
from libs.problems import PROBLEM_JSON
from libs.servicekit.app import runtime_of
from services.matching import instruments, store
from services.matching.domain.listings import BEST_LEVELS
from services.matching.market import market_of
from services.matching.schemas import (
    BarView,
    DailyBars,
    DepthLevel,
    DepthView,
    PublicTrade,
    PublicTradePage,
    QuoteView,
)

router = APIRouter(prefix="/v1/market/{instrument_id}", tags=["market data"])
ERRORS = {404: {"content": {PROBLEM_JSON: {}}}}
ALL_TRADES = 1_000_000  # the daily bars read every trade that stands


@router.get(
    "/quote",
    response_model=QuoteView,
    responses=ERRORS,
    summary="Best bid and ask, last, reference price, band",
)
async def quote(instrument_id: str, request: Request) -> QuoteView:
    pool = runtime_of(request).pool
    row = await instruments.load(pool, instrument_id)
    market = market_of(request)
    terms = await instruments.terms_in_force(pool, row, market.now(), market.closes)
    table = offers_table(row)
    bids = await store.depth(pool, instrument_id, "buy", 1, table)
    asks = await store.depth(pool, instrument_id, "sell", 1, table)
    last = await store.last_trade(pool, instrument_id)
    return QuoteView(
        instrument=instrument_id,
        best_bid=bids[0]["price"] if bids else None,
        best_ask=asks[0]["price"] if asks else None,
        last=last["price"] if last else None,
        reference_price=terms.reference_price,
        band=list(terms.band()),
        halted=row["halted"],
    )


@router.get(
    "/trades",
    response_model=PublicTradePage,
    responses=ERRORS,
    summary="Trades in order (no parties)",
)
async def trades(
    instrument_id: str,
    request: Request,
    cursor: int | None = Query(default=None, ge=0),
    limit: int = Query(default=100, ge=1, le=1000),
) -> PublicTradePage:
    pool = runtime_of(request).pool
    await instruments.load(pool, instrument_id)
    rows = await store.public_trades(pool, instrument_id, cursor, limit)
    items = [
        PublicTrade(
            trade_id=r["id"],
            price=r["price"],
            quantity=r["quantity"],
            mode=r["mode"],
            time=r["executed_at"],
        )
        for r in rows
    ]
    next_cursor = str(rows[-1]["sequence"]) if len(rows) == limit else None
    return PublicTradePage(items=items, next_cursor=next_cursor)


@router.get(
    "/daily",
    response_model=DailyBars,
    responses=ERRORS,
    summary="Daily OHLCV, VWAP and the exchange's close",
)
async def daily(instrument_id: str, request: Request) -> DailyBars:
    pool = runtime_of(request).pool
    row = await instruments.load(pool, instrument_id)
    rows = await store.public_trades(pool, instrument_id, None, ALL_TRADES)
    bars = daily_bars(
        [
            Trade(r["trading_day"], r["price"], r["quantity"], r["mode"] in CLOSING_MODES)
            for r in rows
        ],
        row["reference_price"],
    )
    return DailyBars(
        instrument=instrument_id,
        days=[
            BarView(
                date=b.day,
                open=b.open,
                high=b.high,
                low=b.low,
                close=b.close,
                volume=b.volume,
                turnover=b.turnover,
                vwap=b.vwap,
            )
            for b in bars
        ],
    )


@router.get(
    "/depth",
    response_model=DepthView,
    responses=ERRORS,
    summary="The best five levels of each side",
)
async def depth(instrument_id: str, request: Request) -> DepthView:
    pool = runtime_of(request).pool
    row = await instruments.load(pool, instrument_id)
    table = offers_table(row)
    bids = await store.depth(pool, instrument_id, "buy", BEST_LEVELS, table)
    asks = await store.depth(pool, instrument_id, "sell", BEST_LEVELS, table)
    return DepthView(
        instrument=instrument_id,
        bids=[DepthLevel(**b) for b in bids],
        asks=[DepthLevel(**a) for a in asks],
    )


def offers_table(instrument: dict[str, object]) -> str:
    """Where the instrument's standing offers are: orders on the book, or listings."""
    return "orders" if instrument["market_model"] == "continuous" else "listings"
