"""Public projects and public notices (公示), from issuance's topic."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response

from libs.problems import PROBLEM_JSON, NotFound
from libs.servicekit.app import runtime_of
from libs.servicekit.pagination import (
    decode_cursor,
    encode_cursor,
    next_offset_cursor,
    offset_of,
)
from services.disclosure import projects_store
from services.disclosure.exports import Format, download, format_query
from services.disclosure.schemas import (
    CommentPage,
    MethodologyPage,
    NoticePage,
    ProjectDetail,
    ProjectPage,
    PublicComment,
    PublicMethodology,
    PublicNotice,
    PublicProject,
)

router = APIRouter(prefix="/v1/public", tags=["public"])
NOT_FOUND = {404: {"content": {PROBLEM_JSON: {}}}}


@router.get(
    "/projects",
    response_model=ProjectPage,
    summary="Projects under public notice or registered, newest first",
)
async def list_projects(
    request: Request,
    cursor: str | None = Query(default=None, description="`next_cursor` of the previous page"),
    limit: int = Query(default=50, ge=1, le=500),
    county: Literal["QP", "WJ", "JS"] | None = Query(default=None),
    methodology: str | None = Query(default=None, max_length=50),
    status: Literal["public_notice", "registered"] | None = Query(default=None),
    q: str | None = Query(default=None, max_length=200, description="any part of a title"),
    fmt: Format = format_query(),
) -> ProjectPage | Response:
    rows = await projects_store.list_projects(
        runtime_of(request).pool, decode_cursor(cursor), limit, county, methodology, status, q
    )
    if fmt != "json":
        return download([PublicProject(**r) for r in rows], PublicProject, fmt, "projects")
    next_cursor = encode_cursor(rows[-1]["source_sequence"]) if len(rows) == limit else None
    return ProjectPage(items=[PublicProject(**r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/projects/{project_id}",
    response_model=ProjectDetail,
    responses=NOT_FOUND,
    summary="A public project with its parcels (GeoJSON), documents (SHA-256) and history",
)
async def get_project(project_id: str, request: Request) -> ProjectDetail:
    pool = runtime_of(request).pool
    project = await projects_store.get_public_project(pool, project_id)
    if project is None:
        raise NotFound(f"no public project {project_id}")
    parts = await projects_store.project_parts(pool, project_id)
    area = sum((Decimal(p["area_ha"]) for p in parts["parcels"]), Decimal(0))
    return ProjectDetail(**project, **parts, area_ha=str(area))


@router.get(
    "/notices",
    response_model=NoticePage,
    summary="Public notices (公示): open now, or past; the latest end first",
)
async def notices(
    request: Request,
    state: Literal["open", "past"] = Query(default="open"),
    county: Literal["QP", "WJ", "JS"] | None = Query(default=None),
    cursor: str | None = Query(default=None, description="`next_cursor` of the previous page"),
    limit: int = Query(default=100, ge=1, le=500),
    fmt: Format = format_query(),
) -> NoticePage | Response:
    offset = offset_of(cursor)
    rows = await projects_store.notices(
        runtime_of(request).pool, state == "open", datetime.now(UTC), county, offset, limit
    )
    items = [PublicNotice(**r, project_id=r["id"]) for r in rows]
    if fmt != "json":
        return download(items, PublicNotice, fmt, f"notices-{state}")
    return NoticePage(items=items, next_cursor=next_offset_cursor(offset, len(items), limit))


@router.get(
    "/notices/{project_id}/comments",
    response_model=CommentPage,
    responses=NOT_FOUND,
    summary="The comments a public notice received",
)
async def notice_comments(
    project_id: str,
    request: Request,
    cursor: str | None = Query(default=None, description="`next_cursor` of the previous page"),
    limit: int = Query(default=100, ge=1, le=500),
    fmt: Format = format_query(),
) -> CommentPage | Response:
    pool = runtime_of(request).pool
    if await projects_store.get_public_project(pool, project_id) is None:
        raise NotFound(f"no public project {project_id}")
    offset = offset_of(cursor)
    rows = await projects_store.comments(pool, project_id, offset, limit)
    items = [PublicComment(**r) for r in rows]
    if fmt != "json":
        return download(items, PublicComment, fmt, f"comments-{project_id}")
    return CommentPage(items=items, next_cursor=next_offset_cursor(offset, len(items), limit))


@router.get(
    "/methodologies",
    response_model=MethodologyPage,
    summary="Methodologies in use: id, version, name (from issuance's catalogue)",
    responses={503: {"content": {PROBLEM_JSON: {}}}},
)
async def methodologies(
    request: Request,
    cursor: str | None = Query(default=None, description="`next_cursor` of the previous page"),
    limit: int = Query(default=100, ge=1, le=500),
    fmt: Format = format_query(),
) -> MethodologyPage | Response:
    catalogue = await request.app.state.methodologies.all()
    offset = offset_of(cursor)
    items = [
        PublicMethodology(id=m["id"], version=m["version"], name_zh=m["name"]["zh"],
                          name_en=m["name"]["en"])
        for m in catalogue[offset : offset + limit]
    ]  # fmt: skip
    if fmt != "json":
        return download(items, PublicMethodology, fmt, "methodologies")
    return MethodologyPage(items=items, next_cursor=next_offset_cursor(offset, len(items), limit))


@router.get(
    "/methodologies/{methodology_id}",
    summary="A methodology: description, parameters, equations, factor tables with sources",
    responses={**NOT_FOUND, 503: {"content": {PROBLEM_JSON: {}}}},
)
async def methodology(methodology_id: str, request: Request) -> dict[str, Any]:
    return await request.app.state.methodologies.one(methodology_id)  # type: ignore[no-any-return]
