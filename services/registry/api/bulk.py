"""`POST /v1/bulk`: the back office's end-of-day path (see `services.registry.bulk`)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter

from libs.events.canonical import canonical_json
from libs.problems import PROBLEM_JSON, MalformedBody
from libs.servicekit.app import execute_mutation
from libs.servicekit.auth import Principal, require_authenticated
from libs.servicekit.idempotency import idempotency_key
from services.registry.bulk import hint_of, run_bulk_request
from services.registry.schemas import BulkRequest, BulkResponse

router = APIRouter(prefix="/v1", tags=["bulk"])
ERRORS = {code: {"content": {PROBLEM_JSON: {}}} for code in (400, 403, 404, 409, 422)}
_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BulkRequest"}}},
}


@router.post(
    "/bulk",
    status_code=200,
    response_model=BulkResponse,
    responses=ERRORS,
    summary="Up to 10,000 transfers / retirements / holds / releases / executions in one transaction",
    openapi_extra={"requestBody": _BODY},
)
async def bulk(
    request: Request,
    principal: Principal = Depends(require_authenticated),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    """The body (`BulkRequest`) is parsed here and validated in the command, while the
    transaction's first read is under way (`run_bulk_request`); a 422 names the first invalid
    item (`index`), a refused item of an atomic request gives 409 `bulk-item-refused`."""
    raw = await request.body()
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(str(exc)) from exc
    return await execute_mutation(
        request,
        principal,
        key,
        _fingerprinted(data, raw) if key is not None else None,
        lambda tx: run_bulk_request(tx, principal, data),
        status_code=200,
        hint=hint_of(data),
    )


def _fingerprinted(data: Any, raw: bytes) -> Any:
    """What the Idempotency-Key's fingerprint is taken of: the JSON, or for a value RFC 8785
    cannot write (an integer beyond 2^53 in an invalid request) the bytes as sent."""
    try:
        canonical_json(data)
    except (TypeError, ValueError, OverflowError):
        return {"unparsed": raw.decode("utf-8", "replace")}
    return data


def document_body(app: FastAPI) -> None:
    """Put `BulkRequest` (and the models it uses) in the OpenAPI components: the endpoint
    takes its body unparsed, so FastAPI does not see the model."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()  # cached by FastAPI as `app.openapi_schema`
            model = TypeAdapter(BulkRequest).json_schema(
                ref_template="#/components/schemas/{model}"
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(model.pop("$defs", {}))
            components["BulkRequest"] = model
            return schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
