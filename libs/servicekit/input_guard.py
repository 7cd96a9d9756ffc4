"""The edge check every request passes before any endpoint sees it (docs/rest.md).

PostgreSQL refuses text with NUL (U+0000) or lone surrogates, and integer columns end at
2^63 − 1; the idempotency fingerprint (RFC 8785) only canonicalises integers within
±(2^53 − 1). Rather than teaching every model about that, one ASGI middleware refuses such
input in the path, the query and any JSON body with a 422 naming where it is — so a new
endpoint is safe by default.

What a JSON body may hold is therefore I-JSON (RFC 7493): integers within ±(2^53 − 1), no
NaN or infinities, valid Unicode, nesting at most 1,024 deep. The common case costs one
orjson parse (which refuses lone surrogates, non-finite numbers and deep nesting) and one
scan for the few byte patterns that need a closer look; only a body holding such a pattern
is parsed exactly and walked, to name the offending field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.problems import BodyTooLarge, MalformedBody, Problem, ValidationFailed
from libs.servicekit.problems import problem_response

MAX_SAFE_INT = 2**53 - 1

# Byte patterns that may hide a NUL or an integer outside the safe range: worth a walk.
_SUSPECT = re.compile(rb"\\u0000|\x00|\d{16,}")
_INTEGER = re.compile(r"[+-]?\d+")
_JSON_TYPES = ("application/json", "+json")


def text_problem(location: str, value: str) -> Problem | None:
    """Why `value` (text found at `location`) cannot be stored, or None."""
    if "\x00" in value:
        return _invalid(location, "text must not contain NUL (U+0000)", "nul_character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _invalid(location, "text must be valid Unicode (no lone surrogates)", "surrogate")
    return None


def integer_problem(location: str, value: int) -> Problem | None:
    if -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
        return None
    return _invalid(
        location, f"integers must lie within ±{MAX_SAFE_INT} (2^53 − 1)", "integer_out_of_range"
    )


def _invalid(location: str, message: str, kind: str) -> Problem:
    return ValidationFailed(
        f"invalid: {location}", errors=[{"location": location, "message": message, "type": kind}]
    )


def path_problem(path: str) -> Problem | None:
    return text_problem("path", path)


def query_problem(query_string: bytes) -> Problem | None:
    try:
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return _invalid("query", "the query string must be UTF-8", "encoding")
    for name, value in pairs:
        location = f"query.{name[:64]}"
        problem = text_problem(location, name) or text_problem(location, value)
        if problem is not None:
            return problem
        # A whole-number parameter past the safe range (or too long to be one) is refused
        # here: int() of 4,300+ digits raises, and bigint columns end at 2^63 − 1.
        if _INTEGER.fullmatch(value) and not _safe_int_text(value):
            return integer_problem(location, MAX_SAFE_INT + 1)
    return None


def _safe_int_text(text: str) -> bool:
    digits = text.lstrip("+-").lstrip("0")
    return len(digits) <= 16 and int(digits or "0") <= MAX_SAFE_INT


def json_body_problem(body: bytes) -> Problem | None:
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return MalformedBody(str(exc))
    if _SUSPECT.search(body) is None:
        return None
    # Parsed again by the standard library, which keeps every integer exact (orjson turns
    # one past 64 bits into a float), as FastAPI will parse it.
    for location, value in _leaves(json.loads(body), "body"):
        if isinstance(value, str):
            problem = text_problem(location, value)
        elif isinstance(value, int) and not isinstance(value, bool):
            problem = integer_problem(location, value)
        else:
            problem = None
        if problem is not None:
            return problem
    return None


def _leaves(value: Any, location: str) -> Iterator[tuple[str, Any]]:
    """Every key and scalar of a parsed JSON document with its dotted location."""
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{location}.{key[:64]}"
            yield inner, key
            yield from _leaves(item, inner)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{location}.{index}")
    else:
        yield location, value


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media: str = value.split(b";", 1)[0].strip().decode("latin-1").lower()
            return media.endswith(_JSON_TYPES)
    return False


class InputGuardMiddleware:
    """Refuses unstorable input (see the module docstring) and bodies over `max_bytes` (413).

    A body is read whole, up to the limit, before the app sees it (a declared Content-Length
    over the limit is refused before reading), so the app never receives a truncated body
    and the check sees everything the endpoint will.
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, smaller_limits: Sequence[tuple[str, int]] = ()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # (path pattern, bytes): routes whose bodies must stay smaller (anonymous ones).
        self.smaller_limits = [(re.compile(pattern), limit) for pattern, limit in smaller_limits]

    def limit_for(self, path: str) -> int:
        for pattern, limit in self.smaller_limits:
            if pattern.fullmatch(path):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        problem = path_problem(scope["path"]) or query_problem(scope.get("query_string", b""))
        if problem is None and _declared_length(scope) > limit:
            problem = BodyTooLarge(f"limit is {limit} bytes")
        if problem is not None:
            await problem_response(problem, scope["path"])(scope, receive, send)
            return
        body = await self._read_body(receive, limit)
        if body is None:  # the client went away mid-body
            return
        if len(body) > limit:
            problem = BodyTooLarge(f"limit is {limit} bytes")
        elif body and _is_json(scope):
            problem = json_body_problem(body)
        if problem is not None:
            await problem_response(problem, scope["path"])(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, receive: Receive, limit: int) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
            if size > limit:
                break
        return b"".join(chunks)


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() and len(value) < 19 else 2**63
    return 0


def _replay(body: bytes, original: Receive) -> Receive:
    """A `receive` yielding the buffered body once, then the client's own messages."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive
