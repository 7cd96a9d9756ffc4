"""Instruments: list (market operator), read (public), halt and resume."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from libs.problems import PROBLEM_JSON
from libs.servicekit.app import execute_mutation, runtime_of
from libs.servicekit.auth import Principal, require_roles
from libs.servicekit.idempotency import idempotency_key
from services.matching import instruments, store
from services.matching.market import market_of
from services.matching.schemas import CreateInstrument, HaltInstrument, InstrumentView, NoBody

router = APIRouter(prefix="/v1/instruments", tags=["instruments"])
ERRORS = {code: {"content": {PROBLEM_JSON: {}}} for code in (403, 404, 409, 422)}


@router.post(
    "",
    status_code=201,
    response_model=InstrumentView,
    responses=ERRORS,
    summary="List an instrument {program}-{vintage} (market_operator)",
)
async def create(
    body: CreateInstrument,
    request: Request,
    principal: Principal = Depends(require_roles("market_operator")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    now = market_of(request).now()
    return await execute_mutation(
        request, principal, key, body, lambda tx: instruments.create(tx, body, now)
    )


@router.get("", response_model=list[InstrumentView], summary="Every instrument (public)")
async def list_all(request: Request) -> list[InstrumentView]:
    return [instruments.view(r) for r in await store.list_instruments(runtime_of(request).pool)]


@router.get(
    "/{instrument_id}", response_model=InstrumentView, responses=ERRORS, summary="An instrument"
)
async def get(instrument_id: str, request: Request) -> InstrumentView:
    return instruments.view(await instruments.load(runtime_of(request).pool, instrument_id))


@router.post(
    "/{instrument_id}/halt",
    response_model=InstrumentView,
    responses=ERRORS,
    summary="Halt trading (market_operator); listings stay, nothing trades",
)
async def halt(
    instrument_id: str,
    body: HaltInstrument,
    request: Request,
    principal: Principal = Depends(require_roles("market_operator")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request,
        principal,
        key,
        body,
        lambda tx: instruments.halt(tx, instrument_id, body.reason),
        status_code=200,
    )


@router.post(
    "/{instrument_id}/resume",
    response_model=InstrumentView,
    responses=ERRORS,
    summary="Resume trading (market_operator)",
)
async def resume(
    instrument_id: str,
    request: Request,
    principal: Principal = Depends(require_roles("market_operator")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request,
        principal,
        key,
        NoBody(),
        lambda tx: instruments.resume(tx, instrument_id),
        status_code=200,
    )
