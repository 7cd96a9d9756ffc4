"""RFC 9457 problem types: what can go wrong, with a stable `type` URI, title and status.

Framework-free, so that domain code may raise them: each problem has a stable `type` URI
(`urn:tanhui:problem:<slug>`), a title and an HTTP status. `libs.servicekit.problems` turns
them (and the framework's own errors) into `application/problem+json` responses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
