"""RFC 9457 problem details for every error a service returns.

Each problem has a stable `type` URI (`urn:tanhui:problem:<slug>`), a title and an HTTP status.
Domain code raises `Problem` subclasses (or exceptions mapped to them); the handlers here turn
those, request-validation errors and Starlette's HTTP errors into `application/problem+json`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from libs.events.outages import DATABASE_UNREACHABLE
from libs.events.store import ConcurrencyConflict
from libs.events.writer import WriterStopped

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:tanhui:problem:"


class Problem(Exception):
    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extensions = extensions

    @property
    def type(self) -> str:
        return TYPE_PREFIX + self.slug

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body


def problem_class(status: int, slug: str, title: str) -> type[Problem]:
    return type(
        "".join(part.title() for part in slug.split("-")),
        (Problem,),
        {"status": status, "slug": slug, "title": title},
    )


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Unauthenticated(Problem):
    status, slug, title = 401, "unauthenticated", "Authentication required"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Not allowed for your roles"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict with the current state"


class IdempotencyKeyReused(Problem):
    status, slug, title = (
        409,
        "idempotency-key-reused",
        "Idempotency key reused with another request",
    )


class InvalidIdempotencyKey(Problem):
    status, slug, title = 400, "invalid-idempotency-key", "Invalid Idempotency-Key header"


class MalformedBody(Problem):
    status, slug, title = 400, "malformed-body", "The request body is not valid JSON"


class ValidationFailed(Problem):
    status, slug, title = 422, "validation-failed", "The request is not valid"


class BodyTooLarge(Problem):
    status, slug, title = 413, "body-too-large", "The request body is too large"


class Unavailable(Problem):
    status, slug, title = 503, "unavailable", "Temporarily unavailable; retry later"


class InvalidInput(Problem):
    status, slug, title = 422, "invalid-input", "A value cannot be stored as given"


DATABASE_RETRY_AFTER_SECONDS = 2


def database_unavailable() -> Unavailable:
    return Unavailable(
        "the database cannot be reached; nothing was changed",
        retry_after=DATABASE_RETRY_AFTER_SECONDS,
    )


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


def validation_failed(errors: Sequence[Any]) -> ValidationFailed:
    """The 422 for pydantic errors located as FastAPI locates them (`body, field, …`)."""
    listed = listed_errors(errors)
    names = ", ".join(e["location"] for e in listed)
    return ValidationFailed(f"invalid: {names}", errors=listed)


def listed_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    """Pydantic errors as a problem's `errors`: location (dotted), message, type."""
    return [
        {
            "location": ".".join(str(p) for p in error.get("loc", ())),
            "message": error.get("msg", ""),
            "type": error.get("type", ""),
        }
        for error in errors
    ]


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
