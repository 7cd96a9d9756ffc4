"""The witness's record, public (README, "Witness")."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel

from libs.servicekit.app import runtime_of
from services.disclosure import witness_store

router = APIRouter(prefix="/v1/public", tags=["public"])


class WitnessedLog(BaseModel):
    service: str
    size: int
    root: str
    witnessed_at: datetime


class WitnessFinding(BaseModel):
    service: str
    problem: str
    detail: str
    found_at: datetime


class WitnessView(BaseModel):
    logs: list[WitnessedLog]
    findings: list[WitnessFinding]


@router.get(
    "/witness",
    response_model=WitnessView,
    summary="见证 The last checkpoint of each service's log checked here, and what failed",
)
async def witness_record(request: Request) -> WitnessView:
    pool = runtime_of(request).pool
    return WitnessView(
        logs=[WitnessedLog(**row) for row in await witness_store.logs(pool)],
        findings=[WitnessFinding(**row) for row in await witness_store.findings(pool, 100)],
    )
