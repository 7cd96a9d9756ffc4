"""`POST /v1/bulk`: the back office's end-of-day path (see `services.registry.bulk`)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from libs.servicekit.app import execute_mutation
from libs.servicekit.auth import Principal, require_authenticated
from libs.servicekit.idempotency import idempotency_key
from libs.servicekit.problems import PROBLEM_JSON
from services.registry.bulk import plan_bulk, run_bulk, validation_problem
from services.registry.schemas import BulkRequest, BulkResponse


class ItemValidationRoute(APIRoute):
    """A 422 for an invalid item names it (`index`), like a refused item's 409 does."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_naming_the_item(request: Request) -> Response:
            try:
                return await handle(request)
            except RequestValidationError as exc:
                problem = validation_problem(exc.errors())
                if problem is None:
                    raise
                raise problem from exc

        return handle_naming_the_item


router = APIRouter(prefix="/v1", tags=["bulk"], route_class=ItemValidationRoute)
ERRORS = {code: {"content": {PROBLEM_JSON: {}}} for code in (403, 404, 409, 422)}


@router.post(
    "/bulk",
    status_code=200,
    response_model=BulkResponse,
    responses=ERRORS,
    summary="Up to 10,000 transfers / retirements / holds / releases in one transaction",
)
async def bulk(
    body: BulkRequest,
    request: Request,
    principal: Principal = Depends(require_authenticated),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    plan = plan_bulk(principal, body)
    return await execute_mutation(
        request,
        principal,
        key,
        body,
        lambda tx: run_bulk(tx, plan),
        status_code=200,
        hint=plan.hint,
    )
