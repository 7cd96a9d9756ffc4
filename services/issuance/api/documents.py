"""Documents: upload (multipart) with SHA-256, list, download."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from libs.problems import PROBLEM_JSON
from libs.servicekit.app import execute_mutation, runtime_of
from libs.servicekit.auth import Principal, current_principal, require_roles
from libs.servicekit.files import file_response, sha256_of
from libs.servicekit.idempotency import idempotency_key
from services.issuance import access, documents, store
from services.issuance.domain.errors import UnknownDocument
from services.issuance.schemas import DocumentKind, DocumentView

router = APIRouter(tags=["documents"])
ERRORS = {code: {"content": {PROBLEM_JSON: {}}} for code in (403, 404, 409, 422)}


class UploadClaim(BaseModel):
    """What an Idempotency-Key is bound to for an upload: the file's digest, not its bytes."""

    kind: str
    filename: str
    sha256: str
    report_id: str | None


@router.post(
    "/v1/projects/{project_id}/documents",
    status_code=201,
    response_model=DocumentView,
    responses=ERRORS,
    summary="Upload a document (multipart: kind, file, report_id for a verification report)",
)
async def upload_document(
    project_id: str,
    request: Request,
    kind: DocumentKind = Form(),
    file: UploadFile = File(),
    report_id: str | None = Form(default=None),
    principal: Principal = Depends(
        require_roles("developer", "validator", "verifier", "registry_admin")
    ),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    content = await file.read()
    filename = file.filename or ""
    claim = UploadClaim(
        kind=kind, filename=filename, sha256=sha256_of(content), report_id=report_id
    )
    media_type = file.content_type or "application/octet-stream"
    return await execute_mutation(
        request,
        principal,
        key,
        claim,
        lambda tx: documents.attach(
            tx, principal, project_id, kind, filename, media_type, content, report_id
        ),
    )


@router.get(
    "/v1/projects/{project_id}/documents",
    response_model=list[DocumentView],
    responses=ERRORS,
    summary="The project's documents with their SHA-256",
)
async def list_documents(
    project_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> list[DocumentView]:
    pool = runtime_of(request).pool
    access.visible(principal, await store.get_project(pool, project_id))
    return await store.list_documents(pool, project_id)


@router.get(
    "/v1/documents/{document_id}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, **ERRORS},
    summary="Download a document; its SHA-256 is in the ETag and Repr-Digest headers",
)
async def download_document(
    document_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> Response:
    pool = runtime_of(request).pool
    document = await store.get_document(pool, document_id)
    if document is None:
        raise UnknownDocument()
    project = await store.get_project(pool, document.project_id)
    access.visible_through(principal, project, UnknownDocument())
    content = await store.document_content(pool, document_id)
    return file_response(content, document.media_type, document.filename, document.sha256)
