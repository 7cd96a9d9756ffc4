"""Methodologies: discover them and quantify without side effects (docs/domain.md, §8)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Query

from libs.problems import PROBLEM_JSON
from services.issuance.domain import methodologies
from services.issuance.schemas import QuantifyRequest, QuantifyResult

router = APIRouter(prefix="/v1/methodologies", tags=["methodologies"])
NOT_FOUND = {404: {"content": {PROBLEM_JSON: {}}}}


@router.get("", summary="Every methodology version (public)")
async def list_methodologies() -> list[dict[str, Any]]:
    return [
        {"id": m.id, "version": m.version, "name": {"zh": m.name_zh, "en": m.name_en}}
        for m in methodologies.CATALOG.values()
    ]


@router.get(
    "/{methodology_id}",
    responses=NOT_FOUND,
    summary="A methodology: description, parameters (JSON Schema), equations, factor tables",
)
async def get_methodology(
    methodology_id: str, version: int | None = Query(default=None, ge=1)
) -> dict[str, Any]:
    methodology = methodologies.get(methodology_id, version)
    described = methodology.describe()
    described["versions"] = [m.version for m in methodologies.versions(methodology_id)]
    return described


@router.post(
    "/{methodology_id}/quantify",
    response_model=QuantifyResult,
    responses={**NOT_FOUND, 422: {"content": {PROBLEM_JSON: {}}}},
    summary="Quantify reductions for the given parameters, with the full trace (no side effects)",
)
async def quantify(methodology_id: str, body: QuantifyRequest) -> QuantifyResult:
    methodology = methodologies.get(methodology_id, body.version)
    # Up to 10,000 strata take a noticeable share of a second: off the event loop, so that
    # one anonymous request cannot hold up the service's other requests meanwhile.
    quantification = await asyncio.to_thread(methodology.evaluate, body.parameters)
    result = quantification.as_dict(with_trace=body.trace)
    return QuantifyResult(methodology=methodology.id, version=methodology.version, **result)
