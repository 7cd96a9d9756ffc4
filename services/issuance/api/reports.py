"""Monitoring reports: submit (JSON or CSV/XLSX upload), read, verify, approve."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from libs.problems import PROBLEM_JSON, ValidationFailed
from libs.servicekit.app import execute_mutation, runtime_of
from libs.servicekit.auth import Principal, current_principal, require_roles
from libs.servicekit.idempotency import idempotency_key
from services.issuance import access, documents, monitoring, reports_store, store
from services.issuance.domain.activity import read_table
from services.issuance.domain.errors import UnknownReport
from services.issuance.schemas import (
    ApproveReport,
    ReportPage,
    ReportView,
    SubmitReport,
    VerifyReport,
)

router = APIRouter(tags=["monitoring"])
ERRORS = {code: {"content": {PROBLEM_JSON: {}}} for code in (403, 404, 409, 422)}
developer = require_roles("developer", "registry_admin")


@router.post(
    "/v1/projects/{project_id}/monitoring-reports",
    status_code=201,
    response_model=ReportView,
    responses=ERRORS,
    summary="Submit a monitoring report with activity data per parcel as JSON (developer)",
)
async def submit_report(
    project_id: str,
    body: SubmitReport,
    request: Request,
    principal: Principal = Depends(developer),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    period = (body.period_start, body.period_end)
    return await execute_mutation(
        request,
        principal,
        key,
        body,
        lambda tx: monitoring.submit(tx, principal, project_id, period, body.activity, False),
    )


class UploadClaim(BaseModel):
    period_start: date
    period_end: date
    filename: str
    sha256: str


@router.post(
    "/v1/projects/{project_id}/monitoring-reports/upload",
    status_code=201,
    response_model=ReportView,
    responses=ERRORS,
    summary="Submit a monitoring report with activity data as a CSV or XLSX file (developer)",
    description=(
        "Multipart: `period_start`, `period_end` (ISO dates) and `file` (.csv UTF-8 or .xlsx, "
        "first sheet): a header row with the methodology's `activity_columns` "
        "(GET /v1/methodologies/{id}), then one row per parcel. Every row error is reported "
        "at once with its row number (header = row 1) and column."
    ),
)
async def upload_report(
    project_id: str,
    request: Request,
    period_start: date = Form(),
    period_end: date = Form(),
    file: UploadFile = File(),
    principal: Principal = Depends(developer),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    if period_end < period_start:
        raise ValidationFailed("period_end must not be before period_start")
    content = await file.read()
    filename = file.filename or ""
    rows = read_table(content, filename)
    claim = UploadClaim(
        period_start=period_start,
        period_end=period_end,
        filename=filename,
        sha256=documents.sha256_of(content),
    )
    period = (period_start, period_end)
    return await execute_mutation(
        request,
        principal,
        key,
        claim,
        lambda tx: monitoring.submit(tx, principal, project_id, period, rows, True),
    )


@router.get(
    "/v1/projects/{project_id}/monitoring-reports",
    response_model=ReportPage,
    responses=ERRORS,
    summary="The project's monitoring reports (without traces)",
)
async def list_reports(
    project_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> ReportPage:
    pool = runtime_of(request).pool
    access.visible(principal, await store.get_project(pool, project_id))
    return ReportPage(items=await reports_store.list_reports(pool, project_id), next_cursor=None)


@router.get(
    "/v1/monitoring-reports/{report_id}",
    response_model=ReportView,
    responses=ERRORS,
    summary="A monitoring report with its parameters and full calculation trace",
)
async def get_report(
    report_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> ReportView:
    pool = runtime_of(request).pool
    report = await reports_store.get_report(pool, report_id, detail=True)
    if report is None:
        raise UnknownReport()
    project = await store.get_project(pool, report.project_id)
    access.visible_through(principal, project, UnknownReport())
    return report


@router.post(
    "/v1/monitoring-reports/{report_id}/verify",
    response_model=ReportView,
    responses=ERRORS,
    summary="Verify 核证 a report: verified net ≤ claimed, with the statement (verifier)",
)
async def verify_report(
    report_id: str,
    body: VerifyReport,
    request: Request,
    principal: Principal = Depends(require_roles("verifier", "registry_admin")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request,
        principal,
        key,
        body,
        lambda tx: monitoring.verify(tx, principal, report_id, body),
        status_code=200,
    )


@router.post(
    "/v1/monitoring-reports/{report_id}/approve",
    response_model=ReportView,
    responses=ERRORS,
    summary="Approve issuance of a verified report: emits IssuanceApproved (registry_admin)",
)
async def approve_report(
    report_id: str,
    body: ApproveReport,
    request: Request,
    principal: Principal = Depends(require_roles("registry_admin")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request,
        principal,
        key,
        body,
        lambda tx: monitoring.approve(tx, principal, report_id, body.comment),
        status_code=200,
    )
