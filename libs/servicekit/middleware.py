"""ASGI middleware every service wears: the last-resort error answer and the security headers."""

from __future__ import annotations

import logging

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.problems import problem_class
from libs.servicekit.problems import problem_response

log = logging.getLogger(__name__)

InternalError = problem_class(500, "internal-error", "Internal error")

# Pages are served whole by the service itself: no scripts, frames or third-party assets.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class UnexpectedErrorMiddleware:
    """Answers an exception no handler took with a 500 problem — and keeps the connection.

    Starlette's own last-resort handler re-raises after answering, and uvicorn then closes
    the transport, which resets the client's next request on that keep-alive connection.
    Here the exception is logged and ends with the answer. A response already under way
    cannot be turned into a problem; the server closes that connection, as it must."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            problem = InternalError("the error was logged; nothing was changed")
            await problem_response(problem, scope.get("path"))(scope, receive, send)


class SecurityHeadersMiddleware:
    """`X-Content-Type-Options: nosniff` on every response, and a strict CSP on HTML ones."""

    # FastAPI's interactive API pages load Swagger UI / ReDoc from a CDN: a developer tool,
    # left without the CSP that would blank it.
    API_DOC_PAGES = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        strict = scope["path"] not in self.API_DOC_PAGES

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                if strict and headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                    headers.setdefault("Referrer-Policy", "same-origin")
            await send(message)

        await self.app(scope, receive, send_with_headers)
