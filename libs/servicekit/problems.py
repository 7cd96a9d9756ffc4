"""RFC 9457 responses: the handlers that turn `libs.problems` types, request-validation
errors, Starlette's HTTP errors and database failures into `application/problem+json`."""

from __future__ import annotations

import logging

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from libs.events.outages import DATABASE_UNREACHABLE
from libs.events.store import ConcurrencyConflict
from libs.events.writer import WriterStopped
from libs.problems import (
    PROBLEM_JSON,
    Conflict,
    InvalidInput,
    MalformedBody,
    Problem,
    Unavailable,
    database_unavailable,
    problem_class,
    validation_failed,
)

log = logging.getLogger(__name__)


def problem_response(problem: Problem, instance: str | None = None) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else None
    if "retry_after" in problem.extensions:  # 429/503 tell the client when to come back
        headers = {"Retry-After": str(problem.extensions["retry_after"])}
    return JSONResponse(
        problem.body(instance), status_code=problem.status, media_type=PROBLEM_JSON, headers=headers
    )


def _validation_problem(exc: RequestValidationError) -> Problem:
    errors = exc.errors()
    for error in errors:
        if error.get("type") == "json_invalid":
            return MalformedBody(str(error.get("ctx", {}).get("error", "invalid JSON")))
    return validation_failed(errors)


_HTTP_SLUGS = {404: "not-found", 405: "method-not-allowed", 415: "unsupported-media-type"}


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc, request.url.path)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(_validation_problem(exc), request.url.path)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        slug = _HTTP_SLUGS.get(exc.status_code, f"http-{exc.status_code}")
        cls = problem_class(exc.status_code, slug, str(exc.detail))
        return problem_response(cls(), request.url.path)

    async def on_stream_conflict(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ConcurrencyConflict)
        return problem_response(Conflict(str(exc)), request.url.path)

    async def on_writer_stopped(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(Unavailable("the service is shutting down"), request.url.path)

    async def on_data_error(request: Request, exc: Exception) -> JSONResponse:
        # A backstop behind the input guard (input_guard.py): PostgreSQL refused a value
        # (class 22, data exception) and rolled the transaction back, so nothing changed.
        log.warning("data error on %s %s: %s", request.method, request.url.path, exc)
        return problem_response(InvalidInput(str(exc)), request.url.path)

    async def on_database_unreachable(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unreachable on %s %s: %r", request.method, request.url.path, exc)
        return problem_response(database_unavailable(), request.url.path)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(ConcurrencyConflict, on_stream_conflict)
    app.add_exception_handler(WriterStopped, on_writer_stopped)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(asyncpg.DataError, on_data_error)
    for unreachable in DATABASE_UNREACHABLE:
        app.add_exception_handler(unreachable, on_database_unreachable)
