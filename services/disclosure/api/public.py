"""Anonymous public disclosure endpoints (docs/domain.md, §8)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response

from libs.marketdata.bars import CLOSING_MODES, Trade, daily_bars
from libs.problems import PROBLEM_JSON, NotFound, Problem
from libs.servicekit.app import runtime_of
from libs.servicekit.pagination import (
    decode_cursor,
    encode_cursor,
    next_offset_cursor,
    offset_of,
)
from services.disclosure import derivatives_store, market_store, projects_store, store
from services.disclosure import reconciliation as reconcile
from services.disclosure.exports import Format, download, format_query
from services.disclosure.schemas import (
    BufferPool,
    BufferPoolRow,
    CancellationPage,
    InstrumentPage,
    IssuancePage,
    PointsSchemePage,
    PublicBar,
    PublicCancellation,
    PublicDaily,
    PublicInstrument,
    PublicIssuance,
    PublicLabel,
    PublicPointsScheme,
    PublicProject,
    PublicRetirement,
    PublicTotals,
    ReconciliationPage,
    RetirementPage,
    SerialMovement,
    SerialView,
    TotalsRow,
)

EXCHANGE_TIME = ZoneInfo("Asia/Shanghai")  # a label is valid by the zone's calendar day
BAR_FIELDS = ("open", "high", "low", "close", "volume", "turnover", "vwap")

router = APIRouter(prefix="/v1/public", tags=["public"])


@router.get("/issuances", response_model=IssuancePage, summary="Issued batches, newest first")
async def list_issuances(
    request: Request,
    cursor: str | None = Query(default=None, description="`next_cursor` of the previous page"),
    limit: int = Query(default=50, ge=1, le=500),
    county: Literal["QP", "WJ", "JS"] | None = Query(default=None),
    project: str | None = Query(default=None, max_length=50),
    vintage: int | None = Query(default=None, ge=1990, le=2100),
    issued_from: date | None = Query(default=None, description="a calendar day, Asia/Shanghai"),
    issued_to: date | None = Query(default=None, description="a calendar day, included"),
    fmt: Format = format_query(),
) -> IssuancePage | Response:
    after = decode_cursor(cursor)
    only = store.IssuanceFilter(county, project, vintage, issued_from, issued_to)
    rows = await store.list_issuances(runtime_of(request).pool, after, limit, only)
    if fmt != "json":
        return download([i for _, i in rows], PublicIssuance, fmt, "issuances")
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


@router.get("/market", response_model=InstrumentPage, summary="Instruments traded on the exchange")
async def market_instruments(
    request: Request,
    cursor: str | None = Query(default=None, description="`next_cursor` of the previous page"),
    limit: int = Query(default=100, ge=1, le=500),
    fmt: Format = format_query(),
) -> InstrumentPage | Response:
    offset = offset_of(cursor)
    rows = await market_store.list_instruments(runtime_of(request).pool, offset, limit)
    items = [PublicInstrument(**r) for r in rows]
    if fmt != "json":
        return download(items, PublicInstrument, fmt, "instruments")
    return InstrumentPage(items=items, next_cursor=next_offset_cursor(offset, len(items), limit))


@router.get(
    "/market/{instrument_id}/daily",
    response_model=PublicDaily,
    responses={404: {"content": {PROBLEM_JSON: {}}}},
    summary="Daily open, high, low, close, volume, turnover and VWAP (prices in fen)",
)
async def market_daily(
    instrument_id: str,
    request: Request,
    date_from: date | None = Query(default=None, description="the first trading day shown"),
    date_to: date | None = Query(default=None, description="the last trading day shown"),
    fmt: Format = format_query(),
) -> PublicDaily | Response:
    pool = runtime_of(request).pool
    instrument = await market_store.get_instrument(pool, instrument_id)
    if instrument is None:
        raise NotFound(f"no instrument {instrument_id}")
    trades = [
        Trade(t["trading_day"], t["price"], t["quantity"], t["mode"] in CLOSING_MODES)
        for t in await market_store.standing_trades(pool, instrument_id)
    ]
    # Every day's bar from the first trade (a close carries over to the next day), then the
    # days asked for.
    bars = daily_bars(trades, instrument["reference_price"])
    days = [
        PublicBar(date=b.day, **{k: getattr(b, k) for k in BAR_FIELDS})
        for b in bars
        if (date_from is None or b.day >= date_from) and (date_to is None or b.day <= date_to)
    ]
    if fmt != "json":
        return download(days, PublicBar, fmt, f"{instrument_id}-daily")
    return PublicDaily(instrument=instrument_id, days=days)


@router.get(
    "/retirements",
    response_model=RetirementPage,
    summary="Retirements, newest first: beneficiary, purpose, quantity, serial blocks",
)
async def list_retirements(
    request: Request,
    cursor: str | None = Query(default=None, description="`next_cursor` of the previous page"),
    limit: int = Query(default=50, ge=1, le=500),
    beneficiary: str | None = Query(default=None, max_length=200, description="any part of it"),
    purpose: str | None = Query(default=None, max_length=50),
    retired_from: date | None = Query(default=None, description="a calendar day, Asia/Shanghai"),
    retired_to: date | None = Query(default=None, description="a calendar day, included"),
    fmt: Format = format_query(),
) -> RetirementPage | Response:
    only = store.RetirementFilter(beneficiary, purpose, retired_from, retired_to)
    rows = await store.list_retirements(
        runtime_of(request).pool, decode_cursor(cursor), limit, only
    )
    if fmt != "json":
        return download([PublicRetirement(**r) for r in rows], PublicRetirement, fmt, "retirements")
    next_cursor = encode_cursor(rows[-1]["source_sequence"]) if len(rows) == limit else None
    return RetirementPage(items=[PublicRetirement(**r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/cancellations",
    response_model=CancellationPage,
    summary="Cancellations (reversals from a buffer, corrections, exports), newest first",
)
async def list_cancellations(
    request: Request,
    cursor: str | None = Query(default=None, description="`next_cursor` of the previous page"),
    limit: int = Query(default=50, ge=1, le=500),
    reason: Literal["reversal", "correction", "export"] | None = Query(default=None),
    cancelled_from: date | None = Query(default=None, description="a calendar day, Asia/Shanghai"),
    cancelled_to: date | None = Query(default=None, description="a calendar day, included"),
    fmt: Format = format_query(),
) -> CancellationPage | Response:
    only = store.CancellationFilter(reason, cancelled_from, cancelled_to)
    pool = runtime_of(request).pool
    rows = await store.list_cancellations(pool, decode_cursor(cursor), limit, only)
    items = [PublicCancellation(**r) for r in rows]
    if fmt != "json":
        return download(items, PublicCancellation, fmt, "cancellations")
    next_cursor = encode_cursor(rows[-1]["source_sequence"]) if len(rows) == limit else None
    return CancellationPage(items=items, next_cursor=next_cursor)


@router.get(
    "/buffer",
    response_model=BufferPool,
    summary="缓冲池 The buffer pool per program: contributed, cancelled (reversals), remaining",
)
async def buffer_pool(request: Request, fmt: Format = format_query()) -> BufferPool | Response:
    items = [BufferPoolRow(**r) for r in await store.buffer_pool(runtime_of(request).pool)]
    return (
        download(items, BufferPoolRow, fmt, "buffer-pool")
        if fmt != "json"
        else BufferPool(items=items)
    )


@router.get(
    "/retirements/{retirement_id}",
    response_model=PublicRetirement,
    responses={404: {"content": {PROBLEM_JSON: {}}}},
    summary="One retirement",
)
async def get_retirement(retirement_id: str, request: Request) -> PublicRetirement:
    row = await store.get_retirement(runtime_of(request).pool, retirement_id)
    if row is None:
        raise NotFound(f"no retirement {retirement_id}")
    return PublicRetirement(**row)


@router.get(
    "/totals",
    response_model=PublicTotals,
    summary="Units issued, retired, cancelled and outstanding, by program, vintage, project or county",
)
async def totals(
    request: Request,
    by: Literal["program", "vintage", "project", "county", "methodology"] = Query(
        default="program"
    ),
    fmt: Format = format_query(),
) -> PublicTotals | Response:
    rows = [_totals_row(**r) for r in await store.totals(runtime_of(request).pool, by)]
    if fmt != "json":
        return download(rows, TotalsRow, fmt, f"totals-by-{by}")
    overall = _totals_row(
        "all",
        sum(r.issued for r in rows),
        sum(r.retired for r in rows),
        sum(r.cancelled for r in rows),
    )
    return PublicTotals(by=by, rows=rows, overall=overall)


def _totals_row(key: str, issued: int, retired: int, cancelled: int) -> TotalsRow:
    return TotalsRow(
        key=key,
        issued=issued,
        retired=retired,
        cancelled=cancelled,
        outstanding=issued - retired - cancelled,
    )


@router.get(
    "/serials/{serial}",
    response_model=SerialView,
    responses={404: {"content": {PROBLEM_JSON: {}}}},
    summary="A unit or block serial's provenance: batch, project, every movement, retirement",
)
async def serial_provenance(serial: str, request: Request) -> SerialView:
    batch_id, first, last = _parse_serial(serial)
    pool = runtime_of(request).pool
    batch = await store.get_issuance(pool, batch_id)
    moves = await store.provenance(pool, batch_id, first, last)
    if batch is None and not moves:
        raise NotFound(f"no units {serial}")
    project = await projects_store.get_public_project(pool, batch.project) if batch else None
    retired = [m for m in moves if m["to_state"] == "retired"]
    retirement = None
    if retired:
        row = await store.get_retirement(pool, retired[-1]["subject"].removeprefix("retirement/"))
        retirement = PublicRetirement(**row) if row else None
    return SerialView(
        serial=serial,
        batch=batch,
        project=PublicProject(**project) if project else None,
        movements=[SerialMovement(**m, operation=m["subject"]) for m in moves],
        retirement=retirement,
    )


def _parse_serial(serial: str) -> tuple[str, int, int]:
    """`<batch>-<start>-<end>` (a block) or `<batch>-<unit>` (one unit)."""
    head, _, last = serial.rpartition("-")
    batch, _, first = head.rpartition("-")
    if last.isdigit() and first.isdigit() and batch.count("-") >= 4:
        start, end = int(first), int(last)
    elif last.isdigit() and head.count("-") >= 4:
        batch, start, end = head, int(last), int(last)
    else:
        raise InvalidSerial(f"{serial} is not <batch>-<start>-<end> or <batch>-<unit>")
    if not 0 < start <= end <= 10**12:
        raise InvalidSerial(f"{serial}: the unit range is not valid")
    return batch, start, end


class InvalidSerial(Problem):
    status, slug, title = 422, "invalid-serial", "Not a serial number"


@router.get(
    "/reconciliation",
    response_model=ReconciliationPage,
    summary="对账 Per batch: the registry's supply now against the read model's totals",
)
async def reconciliation(
    request: Request,
    cursor: str | None = Query(
        default=None, max_length=100, description="`next_cursor` of the previous page (a batch id)"
    ),
    limit: int = Query(default=50, ge=1, le=100),
) -> ReconciliationPage:
    runtime = runtime_of(request)
    return await reconcile.page(
        runtime.pool,
        request.app.state.registry_supply,
        runtime.settings.topic("registry"),
        cursor,
        limit,
    )


@router.get(
    "/points",
    response_model=PointsSchemePage,
    summary="碳积分 Carbon points schemes: backing, minted, redeemed, outstanding",
)
async def points_schemes(
    request: Request,
    cursor: str | None = Query(default=None, description="`next_cursor` of the previous page"),
    limit: int = Query(default=100, ge=1, le=500),
    fmt: Format = format_query(),
) -> PointsSchemePage | Response:
    offset = offset_of(cursor)
    rows = await derivatives_store.points_schemes(runtime_of(request).pool, offset, limit)
    items = [PublicPointsScheme(**r, outstanding=r["minted"] - r["redeemed"]) for r in rows]
    if fmt != "json":
        return download(items, PublicPointsScheme, fmt, "points-schemes")
    return PointsSchemePage(items=items, next_cursor=next_offset_cursor(offset, len(items), limit))


def label_status(row: dict[str, Any], today: date) -> str:
    if row["revoked_reason"] is not None:
        return "revoked"
    if today < row["valid_from"]:
        return "not_yet_valid"
    return "expired" if today > row["valid_to"] else "valid"


@router.get(
    "/labels/{code}",
    response_model=PublicLabel,
    responses={404: {"content": {PROBLEM_JSON: {}}}},
    summary="碳标签 A carbon label: the product's claim and the retirement backing it",
)
async def get_label(code: str, request: Request) -> PublicLabel:
    pool = runtime_of(request).pool
    row = await derivatives_store.label(pool, code)
    if row is None:
        raise NotFound(f"no carbon label {code[:40]!r}")
    retirement = await store.get_retirement(pool, row["retirement_id"])
    today = datetime.now(EXCHANGE_TIME).date()
    return PublicLabel(
        **row,
        status=label_status(row, today),  # type: ignore[arg-type]
        retirement=PublicRetirement(**retirement) if retirement else None,
    )
