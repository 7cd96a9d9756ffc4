"""Anonymous public disclosure endpoints (docs/domain.md, §8)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from libs.problems import PROBLEM_JSON, NotFound
from libs.servicekit.app import runtime_of
from libs.servicekit.pagination import decode_cursor, encode_cursor
from services.disclosure import store
from services.disclosure.schemas import IssuancePage, PublicIssuance

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
