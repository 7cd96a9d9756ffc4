"""All SQL of monitoring reports: periods, quantification results, verification, approval."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import orjson

from libs.events.store import Queryable
from services.issuance.schemas import ReportView

Conn = Queryable


async def overlapping_report(conn: Conn, project_id: str, start: date, end: date) -> str | None:
    report: str | None = await conn.fetchval(
        "SELECT id FROM monitoring_reports WHERE project_id = $1"
        " AND period && daterange($2, $3, '[]') LIMIT 1",
        project_id,
        start,
        end,
    )
    return report


async def insert_report(
    conn: Conn, r: ReportView, parameters: dict[str, Any], result: dict[str, Any], buffer: Decimal
) -> None:
    await conn.execute(
        "INSERT INTO monitoring_reports (id, project_id, period, vintage, status, methodology,"
        " methodology_version, parameters, result, net_tco2e, buffer_tco2e, submitted_at, updated_at)"
        " VALUES ($1, $2, daterange($3, $4, '[]'), $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
        r.id,
        r.project_id,
        r.period_start,
        r.period_end,
        r.vintage,
        r.status,
        r.methodology,
        r.methodology_version,
        orjson.dumps(parameters).decode(),
        orjson.dumps(result).decode(),
        Decimal(r.net_tco2e),
        buffer,
        r.submitted_at,
    )


_REPORT_SELECT = (
    "SELECT id, project_id, lower(period) AS period_start, upper(period) - 1 AS period_end,"
    " vintage, status, methodology, methodology_version, result, net_tco2e, buffer_tco2e,"
    " verified_tco2e, verifier, statement_document, approval_id, issued_quantity,"
    " buffer_quantity, submitted_at{extra} FROM monitoring_reports"
)


def _report(row: asyncpg.Record, detail: bool) -> ReportView:
    result = orjson.loads(row["result"])
    verified = row["verified_tco2e"]
    return ReportView(
        id=row["id"],
        project_id=row["project_id"],
        period_start=row["period_start"],
        period_end=row["period_end"],
        vintage=row["vintage"],
        status=row["status"],
        methodology=row["methodology"],
        methodology_version=row["methodology_version"],
        baseline_tco2e=result["baseline_tco2e"],
        project_tco2e=result["project_tco2e"],
        leakage_tco2e=result["leakage_tco2e"],
        deductions=result["deductions"],
        net_tco2e=result["net_tco2e"],
        verified_tco2e=None if verified is None else str(verified),
        verifier=row["verifier"],
        statement_document=row["statement_document"],
        approval_id=row["approval_id"],
        issued_quantity=row["issued_quantity"],
        buffer_quantity=row["buffer_quantity"],
        submitted_at=row["submitted_at"],
        trace=result.get("trace") if detail else None,
        parameters=orjson.loads(row["parameters"]) if detail else None,
    )


async def get_report(
    conn: Conn, report_id: str, detail: bool = False, for_update: bool = False
) -> ReportView | None:
    extra = ", parameters" if detail else ", NULL AS parameters"
    sql = (
        _REPORT_SELECT.format(extra=extra)
        + " WHERE id = $1"
        + (" FOR UPDATE" if for_update else "")
    )
    row = await conn.fetchrow(sql, report_id)
    return _report(row, detail) if row else None


async def report_buffer(conn: Conn, report_id: str) -> Decimal:
    value: Decimal = await conn.fetchval(
        "SELECT buffer_tco2e FROM monitoring_reports WHERE id = $1", report_id
    )
    return value


async def list_reports(conn: Conn, project_id: str) -> list[ReportView]:
    rows = await conn.fetch(
        _REPORT_SELECT.format(extra=", NULL AS parameters")
        + " WHERE project_id = $1 ORDER BY lower(period)",
        project_id,
    )
    return [_report(r, False) for r in rows]


async def set_verified(
    conn: Conn, report_id: str, verified: Decimal, verifier: str, document: str, now: datetime
) -> None:
    await conn.execute(
        "UPDATE monitoring_reports SET status = 'verified', verified_tco2e = $2, verifier = $3,"
        " statement_document = $4, updated_at = $5 WHERE id = $1",
        report_id,
        verified,
        verifier,
        document,
        now,
    )


async def set_approved(
    conn: Conn, report_id: str, approval_id: str, quantity: int, buffer: int, now: datetime
) -> None:
    await conn.execute(
        "UPDATE monitoring_reports SET status = 'approved', approval_id = $2,"
        " issued_quantity = $3, buffer_quantity = $4, updated_at = $5 WHERE id = $1",
        report_id,
        approval_id,
        quantity,
        buffer,
        now,
    )
