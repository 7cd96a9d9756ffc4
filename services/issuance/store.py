"""All SQL of projects, documents, parcels and notice comments (reports: reports_store.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import orjson

from libs.events.store import Queryable
from services.issuance.domain.parcels import Parcel
from services.issuance.schemas import (
    CommentView,
    DocumentView,
    ParcelView,
    ProjectView,
)

Conn = Queryable

_PROJECT_COLUMNS = (
    "id, program, county, title, title_en, description, developer, methodology,"
    " methodology_version, methodology_parameters, crediting_start, crediting_end,"
    " registry_account, status, notice_ends_at, created_at, updated_at"
)


async def next_project_id(conn: Conn, county: str) -> str:
    number = await conn.fetchval(
        "INSERT INTO project_counters (county, last) VALUES ($1, 1)"
        " ON CONFLICT (county) DO UPDATE SET last = project_counters.last + 1 RETURNING last",
        county,
    )
    return f"{county}{number:04d}"


async def insert_project(conn: Conn, p: ProjectView) -> None:
    await conn.execute(
        f"INSERT INTO projects ({_PROJECT_COLUMNS})"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        p.id,
        p.program,
        p.county,
        p.title,
        p.title_en,
        p.description,
        p.developer,
        p.methodology,
        p.methodology_version,
        orjson.dumps(p.methodology_parameters).decode(),
        p.crediting_start,
        p.crediting_end,
        p.registry_account,
        p.status,
        p.notice_ends_at,
        p.created_at,
        p.updated_at,
    )


def _project(row: asyncpg.Record) -> ProjectView:
    values = dict(row)
    values["methodology_parameters"] = orjson.loads(values["methodology_parameters"])
    return ProjectView(**values)


async def get_project(conn: Conn, project_id: str, for_update: bool = False) -> ProjectView | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_PROJECT_COLUMNS} FROM projects WHERE id = $1{lock}", project_id
    )
    return _project(row) if row else None


async def list_projects(
    conn: Conn, developer: str | None, statuses: Sequence[str] | None, after: str | None, limit: int
) -> list[ProjectView]:
    """All projects when neither filter is given; else those of `developer` or in `statuses`."""
    rows = await conn.fetch(
        f"SELECT {_PROJECT_COLUMNS} FROM projects"
        " WHERE (($1::text IS NULL AND $2::text[] IS NULL)"
        " OR developer = $1 OR status = ANY($2::text[]))"
        " AND ($3::text IS NULL OR id > $3) ORDER BY id LIMIT $4",
        developer,
        list(statuses) if statuses is not None else None,
        after,
        limit,
    )
    return [_project(r) for r in rows]


async def set_status(
    conn: Conn, project_id: str, status: str, notice_ends_at: datetime | None, now: datetime
) -> None:
    await conn.execute(
        "UPDATE projects SET status = $2, notice_ends_at = COALESCE($3, notice_ends_at),"
        " updated_at = $4 WHERE id = $1",
        project_id,
        status,
        notice_ends_at,
        now,
    )


async def next_number(conn: Conn, sequence: str) -> int:
    number: int = await conn.fetchval(f"SELECT nextval('{sequence}')")
    return number


_DOCUMENT_COLUMNS = (
    "id, project_id, report_id, kind, filename, media_type, size, sha256, uploaded_by, created_at"
)


async def insert_document(conn: Conn, d: DocumentView, content: bytes) -> None:
    await conn.execute(
        f"INSERT INTO documents ({_DOCUMENT_COLUMNS}, content)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        d.id,
        d.project_id,
        d.report_id,
        d.kind,
        d.filename,
        d.media_type,
        d.size,
        d.sha256,
        d.uploaded_by,
        d.created_at,
        content,
    )


async def get_document(conn: Conn, document_id: str) -> DocumentView | None:
    row = await conn.fetchrow(
        f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE id = $1", document_id
    )
    return DocumentView(**dict(row)) if row else None


async def document_content(conn: Conn, document_id: str) -> bytes:
    content: bytes = await conn.fetchval("SELECT content FROM documents WHERE id = $1", document_id)
    return content


async def list_documents(conn: Conn, project_id: str) -> list[DocumentView]:
    rows = await conn.fetch(
        f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE project_id = $1 ORDER BY id", project_id
    )
    return [DocumentView(**dict(r)) for r in rows]


async def has_document(
    conn: Conn, project_id: str, kind: str, report_id: str | None = None
) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM documents WHERE project_id = $1 AND kind = $2"
            " AND report_id IS NOT DISTINCT FROM $3 LIMIT 1",
            project_id,
            kind,
            report_id,
        )
    )


async def insert_parcels(conn: Conn, project_id: str, parcels: Sequence[Parcel]) -> None:
    await conn.executemany(
        "INSERT INTO parcels (project_id, parcel_id, name, geometry, declared_area_ha,"
        " computed_area_ha, min_lon, min_lat, max_lon, max_lat)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        [
            (
                project_id,
                p.parcel_id,
                p.name,
                orjson.dumps(p.geometry).decode(),
                p.declared_area_ha,
                p.computed_area_ha,
                *p.bbox,
            )
            for p in parcels
        ],
    )


async def existing_parcel_ids(conn: Conn, project_id: str, parcel_ids: Sequence[str]) -> list[str]:
    rows = await conn.fetch(
        "SELECT parcel_id FROM parcels WHERE project_id = $1 AND parcel_id = ANY($2::text[])",
        project_id,
        list(parcel_ids),
    )
    return [r["parcel_id"] for r in rows]


def _parcel(row: asyncpg.Record) -> ParcelView:
    return ParcelView(
        parcel_id=row["parcel_id"],
        name=row["name"],
        declared_area_ha=str(row["declared_area_ha"]),
        computed_area_ha=str(row["computed_area_ha"]),
        geometry=orjson.loads(row["geometry"]),
    )


async def list_parcels(conn: Conn, project_id: str) -> list[ParcelView]:
    rows = await conn.fetch(
        "SELECT parcel_id, name, declared_area_ha, computed_area_ha, geometry FROM parcels"
        " WHERE project_id = $1 ORDER BY parcel_id",
        project_id,
    )
    return [_parcel(r) for r in rows]


async def parcel_areas(conn: Conn, project_id: str) -> dict[str, Decimal]:
    rows = await conn.fetch(
        "SELECT parcel_id, declared_area_ha FROM parcels WHERE project_id = $1", project_id
    )
    return {r["parcel_id"]: r["declared_area_ha"] for r in rows}


PROTECTION_LOCK = 0x7A6E_0001  # advisory lock serialising entries into the protected set


async def lock_protected_parcels(conn: Conn) -> None:
    """Until commit: no other transaction can add projects to the protected set."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", PROTECTION_LOCK)


async def protected_parcels_near(
    conn: Conn,
    bbox: tuple[float, float, float, float],
    excluding_project: str,
    statuses: Sequence[str],
    crediting: tuple[date, date],
) -> list[tuple[str, str, dict[str, Any]]]:
    """(project, parcel, geometry) of parcels whose box meets `bbox`, of other projects in
    `statuses` whose crediting period overlaps `crediting` — candidates for the exact check."""
    rows = await conn.fetch(
        "SELECT p.project_id, p.parcel_id, p.geometry FROM parcels p"
        " JOIN projects j ON j.id = p.project_id"
        " WHERE p.project_id <> $1 AND j.status = ANY($2::text[])"
        " AND j.crediting_start <= $4 AND j.crediting_end >= $3"
        " AND p.max_lon >= $5 AND p.min_lon <= $7 AND p.max_lat >= $6 AND p.min_lat <= $8",
        excluding_project,
        list(statuses),
        crediting[0],
        crediting[1],
        *bbox,
    )
    return [(r["project_id"], r["parcel_id"], orjson.loads(r["geometry"])) for r in rows]


async def insert_comment(conn: Conn, c: CommentView) -> None:
    await conn.execute(
        "INSERT INTO notice_comments (id, project_id, author, text, created_at)"
        " VALUES ($1, $2, $3, $4, $5)",
        c.id,
        c.project_id,
        c.author,
        c.text,
        c.created_at,
    )


async def list_comments(conn: Conn, project_id: str) -> list[CommentView]:
    rows = await conn.fetch(
        "SELECT id, project_id, author, text, created_at FROM notice_comments"
        " WHERE project_id = $1 ORDER BY created_at, id",
        project_id,
    )
    return [CommentView(**dict(r)) for r in rows]
