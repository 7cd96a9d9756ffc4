"""Policy publication: publish, amend, withdraw (registry_admin, regulator); read (public)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from libs.problems import PROBLEM_JSON
from libs.servicekit.app import execute_mutation, runtime_of
from libs.servicekit.auth import Principal, require_roles
from libs.servicekit.files import file_response, sha256_of
from libs.servicekit.idempotency import idempotency_key
from libs.servicekit.pagination import next_offset_cursor, offset_of
from services.disclosure import policies, policies_store
from services.disclosure.exports import Format, download, format_query
from services.disclosure.policy_schemas import (
    AmendPolicy,
    PolicyAttachment,
    PolicyPage,
    PolicyReceipt,
    PolicySummary,
    PolicyText,
    PolicyView,
    WithdrawPolicy,
)

router = APIRouter(tags=["policies"])
ERRORS = {code: {"content": {PROBLEM_JSON: {}}} for code in (403, 404, 409, 422)}
PUBLISHERS = ("registry_admin", "regulator")


@router.post(
    "/v1/policies",
    status_code=201,
    response_model=PolicyReceipt,
    responses=ERRORS,
    summary="Publish a policy 发布政策 (registry_admin, regulator)",
)
async def publish(
    body: PolicyText,
    request: Request,
    principal: Principal = Depends(require_roles(*PUBLISHERS)),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request, principal, key, body, lambda tx: policies.publish(tx, body)
    )


@router.post(
    "/v1/policies/{policy_id}/amend",
    status_code=201,
    response_model=PolicyReceipt,
    responses=ERRORS,
    summary="Publish a new version; the earlier ones stay shown",
)
async def amend(
    policy_id: str,
    body: AmendPolicy,
    request: Request,
    principal: Principal = Depends(require_roles(*PUBLISHERS)),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request, principal, key, body, lambda tx: policies.amend(tx, policy_id, body)
    )


@router.post(
    "/v1/policies/{policy_id}/withdraw",
    response_model=PolicyReceipt,
    responses=ERRORS,
    summary="Withdraw a policy (kept and shown, marked withdrawn)",
)
async def withdraw(
    policy_id: str,
    body: WithdrawPolicy,
    request: Request,
    principal: Principal = Depends(require_roles(*PUBLISHERS)),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request,
        principal,
        key,
        body,
        lambda tx: policies.withdraw(tx, policy_id, body.reason),
        status_code=200,
    )


@router.get(
    "/v1/public/policies",
    response_model=PolicyPage,
    summary="Policies, newest issue date first (withdrawn ones marked)",
)
async def list_policies(
    request: Request,
    category: Literal["regulation", "methodology", "notice", "market_rule"] | None = Query(
        default=None
    ),
    q: str | None = Query(default=None, max_length=200, description="title or 文号"),
    issued_from: date | None = Query(default=None),
    issued_to: date | None = Query(default=None, description="included"),
    cursor: str | None = Query(default=None, description="`next_cursor` of the previous page"),
    limit: int = Query(default=100, ge=1, le=1000),
    fmt: Format = format_query(),
) -> PolicyPage | Response:
    only = policies_store.PolicyFilter(category, q, issued_from, issued_to)
    offset = offset_of(cursor)
    rows = await policies_store.list_current(runtime_of(request).pool, only, offset, limit)
    items = [policies.summary(r) for r in rows]
    if fmt != "json":
        return download(items, PolicySummary, fmt, "policies")
    return PolicyPage(items=items, next_cursor=next_offset_cursor(offset, len(items), limit))


class AttachmentClaim(BaseModel):
    """What an Idempotency-Key is bound to for an upload: the file's digest, not its bytes."""

    filename: str
    sha256: str


@router.post(
    "/v1/policies/{policy_id}/attachments",
    status_code=201,
    response_model=PolicyAttachment,
    responses=ERRORS,
    summary="Attach a file to a policy (multipart `file`); stored with its SHA-256",
)
async def attach(
    policy_id: str,
    request: Request,
    file: UploadFile = File(),
    principal: Principal = Depends(require_roles(*PUBLISHERS)),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    content = await file.read()
    filename, media_type = file.filename or "", file.content_type or "application/octet-stream"
    claim = AttachmentClaim(filename=filename, sha256=sha256_of(content))
    return await execute_mutation(
        request,
        principal,
        key,
        claim,
        lambda tx: policies.attach(tx, policy_id, filename, media_type, content),
    )


@router.get(
    "/v1/public/policies/{policy_id}/attachments/{attachment_id}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, **ERRORS},
    summary="Download an attachment; its SHA-256 is in the ETag and Repr-Digest headers",
)
async def download_attachment(policy_id: str, attachment_id: str, request: Request) -> Response:
    found = await policies_store.attachment_content(
        runtime_of(request).pool, policy_id, attachment_id
    )
    if found is None:
        raise policies.UnknownAttachment()
    return file_response(found["content"], found["media_type"], found["filename"], found["sha256"])


@router.get(
    "/v1/public/policies/{policy_id}",
    response_model=PolicyView,
    responses=ERRORS,
    summary="A policy with every version, bodies as safe HTML",
)
async def get_policy(policy_id: str, request: Request) -> PolicyView:
    return await policies.view(runtime_of(request).pool, policy_id)
