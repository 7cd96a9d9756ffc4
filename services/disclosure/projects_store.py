"""SQL of the projects read model (from `tanhui.issuance`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from libs.events.store import Queryable

Conn = Queryable
# A project is public under notice and once registered (docs/domain.md): drafts, projects under
# review and rejected ones never are.
PUBLIC_STATUSES = ["public_notice", "registered"]

_PROJECT = (
    "id, program, county, title, title_en, description, developer, methodology,"
    " methodology_version, crediting_start, crediting_end, status, notice_ends_at,"
    " source_sequence"
)


async def insert_project(conn: Conn, p: dict[str, Any], source_sequence: int) -> None:
    await conn.execute(
        f"INSERT INTO public_projects ({_PROJECT}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
        " $10, $11, 'draft', NULL, $12) ON CONFLICT (id) DO NOTHING",
        p["project_id"],
        p["program"],
        p["county"],
        p["title"],
        p["title_en"],
        p["description"],
        p["developer"],
        p["methodology"],
        p["methodology_version"],
        p["crediting_start"],
        p["crediting_end"],
        source_sequence,
    )


async def transition(
    conn: Conn, t: dict[str, Any], sequence: int, time: datetime, notice_ends_at: datetime | None
) -> None:
    await conn.execute(
        "UPDATE public_projects SET status = $2, notice_ends_at = COALESCE($3, notice_ends_at)"
        " WHERE id = $1",
        t["project_id"],
        t["to_status"],
        notice_ends_at,
    )
    await conn.execute(
        "INSERT INTO public_project_history VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT DO NOTHING",
        t["project_id"],
        sequence,
        t["action"],
        t["from_status"],
        t["to_status"],
        t["comment"],
        time,
    )


async def add_parcels(conn: Conn, project_id: str, parcels: list[dict[str, Any]]) -> None:
    await conn.executemany(
        "INSERT INTO public_parcels VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        [
            (
                project_id,
                p["parcel_id"],
                p["name"],
                orjson.dumps(p["geometry"]).decode(),
                p["computed_area_ha"],
            )
            for p in parcels
        ],
    )


async def add_document(conn: Conn, d: dict[str, Any], time: datetime) -> None:
    await conn.execute(
        "INSERT INTO public_documents VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT DO NOTHING",
        d["document_id"],
        d["project_id"],
        d["kind"],
        d["filename"],
        d["media_type"],
        d["size"],
        d["sha256"],
        time,
    )


async def add_comment(conn: Conn, c: dict[str, Any], time: datetime) -> None:
    await conn.execute(
        "INSERT INTO public_comments VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        c["comment_id"],
        c["project_id"],
        c["author"],
        c["text"],
        time,
    )


async def list_projects(
    conn: Conn,
    after: int | None,
    limit: int,
    county: str | None,
    methodology: str | None,
    status: str | None,
    text: str | None,
) -> list[dict[str, Any]]:
    """Public projects, newest first; `text` matches any part of either title."""
    rows = await conn.fetch(
        f"SELECT {_PROJECT} FROM public_projects WHERE status = ANY($3::text[])"
        " AND ($1::bigint IS NULL OR source_sequence < $1)"
        " AND ($4::text IS NULL OR county = $4) AND ($5::text IS NULL OR methodology = $5)"
        " AND ($6::text IS NULL OR status = $6)"
        " AND ($7::text IS NULL OR title ILIKE '%' || $7 || '%' OR title_en ILIKE '%' || $7 || '%')"
        " ORDER BY source_sequence DESC LIMIT $2",
        after,
        limit,
        PUBLIC_STATUSES,
        county,
        methodology,
        status,
        text,
    )
    return [dict(r) for r in rows]


async def get_public_project(conn: Conn, project_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        f"SELECT {_PROJECT} FROM public_projects WHERE id = $1 AND status = ANY($2::text[])",
        project_id,
        PUBLIC_STATUSES,
    )
    return dict(row) if row else None


async def project_parts(conn: Conn, project_id: str) -> dict[str, list[dict[str, Any]]]:
    parcels = await conn.fetch(
        "SELECT parcel_id, name, geometry, area_ha FROM public_parcels WHERE project_id = $1"
        " ORDER BY parcel_id",
        project_id,
    )
    documents = await conn.fetch(
        "SELECT id, kind, filename, media_type, size, sha256, time FROM public_documents"
        " WHERE project_id = $1 ORDER BY time, id",
        project_id,
    )
    history = await conn.fetch(
        "SELECT action, from_status, to_status, comment, time FROM public_project_history"
        " WHERE project_id = $1 ORDER BY sequence",
        project_id,
    )
    return {
        "parcels": [dict(r) | {"geometry": orjson.loads(r["geometry"])} for r in parcels],
        "documents": [dict(r) for r in documents],
        "history": [dict(r) for r in history],
        "monitoring": await project_reports(conn, project_id),
    }


async def notices(
    conn: Conn, open_now: bool, now: datetime, county: str | None, offset: int, limit: int
) -> list[dict[str, Any]]:
    """Projects whose public notice is open (`open_now`) or over, with their comment counts,
    the latest end first."""
    condition = (
        "p.status = 'public_notice' AND p.notice_ends_at > $1"
        if open_now
        else "NOT (p.status = 'public_notice' AND p.notice_ends_at > $1)"
    )
    rows = await conn.fetch(
        "SELECT p.id, p.title, p.title_en, p.county, p.status, p.notice_ends_at,"
        " (SELECT count(*) FROM public_comments c WHERE c.project_id = p.id) AS comments"
        f" FROM public_projects p WHERE p.notice_ends_at IS NOT NULL AND {condition}"
        " AND p.status = ANY($2::text[]) AND ($3::text IS NULL OR p.county = $3)"
        " ORDER BY p.notice_ends_at DESC, p.id OFFSET $4 LIMIT $5",
        now,
        PUBLIC_STATUSES,
        county,
        offset,
        limit,
    )
    return [dict(r) for r in rows]


async def comments(
    conn: Conn, project_id: str, offset: int = 0, limit: int | None = None
) -> list[dict[str, Any]]:
    """A notice's comments, oldest first (all of them unless `limit`)."""
    rows = await conn.fetch(
        "SELECT id, author, text, time FROM public_comments WHERE project_id = $1"
        " ORDER BY time, id OFFSET $2 LIMIT $3",
        project_id,
        offset,
        limit,
    )
    return [dict(r) for r in rows]


# -- monitoring, verification, issuance approval (one report's events share its stream) --------

_REPORT = (
    "report_id, project_id, period_start, period_end, vintage, methodology, methodology_version,"
    " net_tco2e, submitted_at, verifier, verified_tco2e, statement_document, verified_at,"
    " issued_quantity, buffer_quantity, approved_at"
)


async def report_submitted(conn: Conn, r: dict[str, Any], sequence: int, time: datetime) -> None:
    await conn.execute(
        "INSERT INTO public_monitoring_reports (report_id, project_id, period_start, period_end,"
        " vintage, methodology, methodology_version, net_tco2e, submitted_at, source_sequence)"
        " VALUES ($1, $2, $3::text::date, $4::text::date, $5, $6, $7, $8, $9, $10)"
        " ON CONFLICT (report_id) DO NOTHING",
        r["report_id"],
        r["project_id"],
        r["period_start"],
        r["period_end"],
        r["vintage"],
        r["methodology"],
        r["methodology_version"],
        r["net_tco2e"],
        time,
        sequence,
    )


async def report_verified(conn: Conn, v: dict[str, Any], time: datetime) -> None:
    await conn.execute(
        "UPDATE public_monitoring_reports SET verifier = $2, verified_tco2e = $3,"
        " statement_document = $4, verified_at = $5 WHERE report_id = $1",
        v["report_id"],
        v["verifier"],
        v["verified_tco2e"],
        v["statement_document"],
        time,
    )


async def issuance_approved(conn: Conn, a: dict[str, Any], time: datetime) -> None:
    """The approval names its project and monitoring period (`start/end`), not the report."""
    start, end = a["monitoring_period"].split("/")
    await conn.execute(
        "UPDATE public_monitoring_reports SET issued_quantity = $4, buffer_quantity = $5,"
        " approved_at = $6 WHERE project_id = $1 AND period_start = $2::text::date"
        " AND period_end = $3::text::date",
        a["project"],
        start,
        end,
        a["quantity"],
        a["buffer_quantity"],
        time,
    )


async def project_reports(conn: Conn, project_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        f"SELECT {_REPORT} FROM public_monitoring_reports WHERE project_id = $1"
        " ORDER BY period_start, report_id",
        project_id,
    )
    return [dict(r) for r in rows]
