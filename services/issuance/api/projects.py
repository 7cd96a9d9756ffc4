"""Projects: create, read, history, lifecycle transitions, public-notice comments."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from libs.problems import PROBLEM_JSON
from libs.servicekit.app import execute_mutation, runtime_of
from libs.servicekit.auth import Principal, current_principal, require_roles
from libs.servicekit.idempotency import idempotency_key
from services.issuance import access, lookup, projects, store
from services.issuance.domain.lifecycle import PUBLIC, TRANSITIONS
from services.issuance.schemas import (
    CommentView,
    CreateProject,
    HistoryEntry,
    NoticeComment,
    ProjectPage,
    ProjectView,
    TransitionRequest,
)

router = APIRouter(prefix="/v1/projects", tags=["projects"])
ERRORS = {code: {"content": {PROBLEM_JSON: {}}} for code in (403, 404, 409, 422)}


@router.post(
    "",
    status_code=201,
    response_model=ProjectView,
    responses=ERRORS,
    summary="Create a draft project for your organisation (developer)",
)
async def create_project(
    body: CreateProject,
    request: Request,
    principal: Principal = Depends(require_roles("developer")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    developer = principal.org or principal.subject
    return await execute_mutation(
        request, principal, key, body, lambda tx: projects.create(tx, developer, body)
    )


@router.get(
    "",
    response_model=ProjectPage,
    summary="Projects you may see: public ones, your organisation's, or all for platform roles",
)
async def list_projects(
    request: Request,
    principal: Principal = Depends(current_principal),
    cursor: str | None = Query(default=None),
    limit: int = Query(default=100, ge=1, le=1000),
) -> ProjectPage:
    everything = principal.has_any(*access.READ_ALL_ROLES)
    items = await store.list_projects(
        runtime_of(request).pool,
        None if everything else principal.org,
        None if everything else sorted(PUBLIC),
        cursor,
        limit,
    )
    return ProjectPage(items=items, next_cursor=items[-1].id if len(items) == limit else None)


@router.get("/{project_id}", response_model=ProjectView, responses=ERRORS, summary="A project")
async def get_project(
    project_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> ProjectView:
    return access.visible(principal, await store.get_project(runtime_of(request).pool, project_id))


@router.get(
    "/{project_id}/history",
    response_model=list[HistoryEntry],
    responses=ERRORS,
    summary="Every event of the project: transitions with actor and comment, documents, parcels",
)
async def project_history(
    project_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> list[HistoryEntry]:
    runtime = runtime_of(request)
    access.visible(principal, await store.get_project(runtime.pool, project_id))
    events = await runtime.store.read_stream(lookup.stream(project_id))
    return [
        HistoryEntry(sequence=e.sequence, type=e.type, time=e.time, actor=e.actor, data=e.data)
        for e in events
    ]


def _transition_route(action: str, summary: str) -> None:
    @router.post(
        f"/{{project_id}}/{action}",
        response_model=ProjectView,
        responses=ERRORS,
        summary=summary,
        name=action,
    )
    async def take(
        project_id: str,
        body: TransitionRequest,
        request: Request,
        principal: Principal = Depends(require_roles()),
        key: str | None = Depends(idempotency_key),
    ) -> JSONResponse:
        notice = timedelta(days=request.app.state.settings.public_notice_days)
        return await execute_mutation(
            request,
            principal,
            key,
            body,
            lambda tx: projects.transition(tx, principal, project_id, action, body.comment, notice),
            status_code=200,
        )


for _action, _transition in TRANSITIONS.items():
    _transition_route(_action, _transition.summary)


@router.post(
    "/{project_id}/comments",
    status_code=201,
    response_model=CommentView,
    responses={**ERRORS, 429: {"content": {PROBLEM_JSON: {}}}},
    summary="Comment on a project under public notice 公示意见 (anyone; rate-limited)",
)
async def comment(
    project_id: str,
    body: NoticeComment,
    request: Request,
    principal: Principal = Depends(current_principal),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    request.app.state.comment_limiter.check(request.client.host if request.client else "unknown")
    return await execute_mutation(
        request, principal, key, body, lambda tx: projects.comment(tx, project_id, body)
    )


@router.get(
    "/{project_id}/comments",
    response_model=list[CommentView],
    responses=ERRORS,
    summary="Public-notice comments of a project",
)
async def list_comments(
    project_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> list[CommentView]:
    pool = runtime_of(request).pool
    access.visible(principal, await store.get_project(pool, project_id))
    return await store.list_comments(pool, project_id)
