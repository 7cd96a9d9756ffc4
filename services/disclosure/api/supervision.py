"""Supervision 监督管理 for regulators: alerts over the market and verification (README)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from fastapi import APIRouter, Depends, Query, Request, Response

from libs.servicekit.app import runtime_of
from libs.servicekit.auth import Principal, require_roles
from libs.servicekit.pagination import next_offset_cursor, offset_of
from services.disclosure import audit_trail, supervision
from services.disclosure.domain.supervision import ALERT_KINDS, AlertKind
from services.disclosure.exports import Format, download, format_query
from services.disclosure.schemas import AuditTrail, SupervisionAlert, SupervisionAlertPage

router = APIRouter(prefix="/v1/supervision", tags=["supervision"])


@router.get(
    "/audit",
    response_model=AuditTrail,
    summary="审计轨迹 One entity's stream from every service's log, by time (regulator)",
)
async def audit(
    request: Request,
    stream: str = Query(min_length=3, max_length=200, description="e.g. account/ACC-000001"),
    _: Principal = Depends(require_roles("regulator")),
) -> AuditTrail:
    found = await audit_trail.trail(
        stream,
        runtime_of(request).store,
        request.app.state.ledgers,
        request.headers["authorization"],
    )
    return AuditTrail(**asdict(found))


@router.get(
    "/alerts",
    response_model=SupervisionAlertPage,
    summary="监督预警 Alerts: wash trades, price moves, concentration, verification (regulator)",
)
async def list_alerts(
    request: Request,
    _: Principal = Depends(require_roles("regulator")),
    kind: list[AlertKind] | None = Query(default=None, description="repeat to ask for several"),
    instrument: str | None = Query(default=None, max_length=100),
    date_from: date | None = Query(default=None, description="the first trading day"),
    date_to: date | None = Query(default=None, description="the last trading day"),
    cursor: str | None = Query(default=None, max_length=100),
    limit: int = Query(default=100, ge=1, le=500),
    fmt: Format = format_query(),
) -> SupervisionAlertPage | Response:
    found = await supervision.alerts(
        runtime_of(request).pool, kind or ALERT_KINDS, instrument, date_from, date_to
    )
    offset = offset_of(cursor)
    items = [SupervisionAlert(**asdict(alert)) for alert in found[offset : offset + limit]]
    if fmt != "json":
        return download(items, SupervisionAlert, fmt, "supervision-alerts")
    return SupervisionAlertPage(
        items=items, next_cursor=next_offset_cursor(offset, len(items), limit)
    )
