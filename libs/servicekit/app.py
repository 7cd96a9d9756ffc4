"""App factory shared by the four services."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.telemetry import TelemetryConfig
from pydantic import BaseModel

from libs.events import asyncapi
from libs.events.contract import catalog_of
from libs.events.store import EventContext, EventTransaction
from libs.problems import PROBLEM_JSON, Unavailable
from libs.servicekit import collector, ledger
from libs.servicekit.auth import Principal
from libs.servicekit.idempotency import StoredResponse, claim_for, idempotent
from libs.servicekit.input_guard import InputGuardMiddleware
from libs.servicekit.middleware import SecurityHeadersMiddleware, UnexpectedErrorMiddleware
from libs.servicekit.problems import install_problem_handlers, problem_response
from libs.servicekit.runtime import ConsumerFactory, Runtime, TaskFactory
from libs.servicekit.settings import ServiceSettings
from libs.servicekit.telemetry import (
    ServerSpanMiddleware,
    current_traceparent,
    setup_logging,
    setup_tracing,
)


@dataclass(frozen=True)
class ServiceParts:
    """What a service plugs into the shared app: its routers and its Kafka consumers."""

    title: str
    description: str
    routers: Sequence[APIRouter]
    consumers: ConsumerFactory | None = None
    tasks: TaskFactory | None = None  # background loops (e.g. the registry's hold-expiry sweeper)
    # Requests that build ~10^5 objects at once (a bulk request): no cycle collection meanwhile.
    collector_paused_paths: frozenset[str] = frozenset()
    # (path pattern, bytes): routes whose bodies are held under the service's limit.
    body_limits: Sequence[tuple[str, int]] = ()


NO_NATIVE_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}


def create_service_app(settings: ServiceSettings, parts: ServiceParts) -> FastAPI:
    setup_logging(settings.service, settings.log_level)
    setup_tracing(settings.service, settings.otel_exporter)
    runtime = Runtime(settings, parts.consumers, parts.tasks)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        collector.settle_after_startup()
        try:
            yield
        finally:
            await runtime.stop()
            collector.release_at_shutdown()

    app = FastAPI(
        # FastAPI's own OpenTelemetry (a server span, operation spans, metrics, logs per
        # request) would duplicate ServerSpanMiddleware's span at several times its cost.
        telemetry=NO_NATIVE_TELEMETRY,
        title=parts.title,
        description=parts.description,
        version="1.0.0",
        lifespan=lifespan,
        responses={
            400: {"description": "Malformed request", "content": {PROBLEM_JSON: {}}},
            401: {"description": "Authentication required", "content": {PROBLEM_JSON: {}}},
            422: {"description": "Invalid request", "content": {PROBLEM_JSON: {}}},
        },
    )
    app.state.runtime = runtime
    app.state.settings = settings
    install_problem_handlers(app)
    # Unstorable input (NUL, unsafe integers, oversized bodies) never reaches an endpoint.
    app.add_middleware(
        InputGuardMiddleware, max_bytes=settings.max_body_bytes, smaller_limits=parts.body_limits
    )
    app.include_router(_operations_router())
    app.include_router(ledger.router)
    for router in parts.routers:
        app.include_router(router)
    if parts.collector_paused_paths:
        app.add_middleware(collector.PausedCollectionMiddleware, paths=parts.collector_paused_paths)
    # One server span per request (see ServerSpanMiddleware for why not the stock one).
    app.add_middleware(
        ServerSpanMiddleware, excluded_paths=frozenset({"/healthz", "/readyz", "/metrics"})
    )
    app.add_middleware(SecurityHeadersMiddleware)
    # Outermost of ours: an error no handler took still gets a problem answer and keeps the
    # client's connection open (see UnexpectedErrorMiddleware).
    app.add_middleware(UnexpectedErrorMiddleware)
    return app


def _operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: database and broker reachable")
    async def readyz(request: Request) -> JSONResponse:
        runtime = request.app.state.runtime
        checks = await runtime.readiness()
        # How far each consumer is behind its topics (records not yet applied): a detail, not
        # a readiness condition — a consumer catching up still serves what it has.
        lag = {consumer.name: consumer.total_lag for consumer in runtime.consumers}
        if all(v == "ok" for v in checks.values()):
            return JSONResponse({"status": "ready", "checks": checks, "consumer_lag": lag})
        return problem_response(
            Unavailable("not ready", checks=checks, consumer_lag=lag), "/readyz"
        )

    @router.get("/asyncapi.json", summary="The events this service publishes (AsyncAPI 3.0)")
    async def asyncapi_document(request: Request) -> JSONResponse:
        settings: ServiceSettings = request.app.state.settings
        return JSONResponse(_asyncapi(settings.service, settings.own_topic, request.app.title))

    @router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
    async def metrics(request: Request) -> str:
        values = request.app.state.runtime.metrics()
        return "".join(f"{name} {value}\n" for name, value in values.items())

    return router


@functools.cache
def _asyncapi(service: str, topic: str, title: str) -> dict[str, Any]:
    """The event contract on the service's topic, from its catalog: built when first asked
    (~30 ms of schema generation that no start-up should pay)."""
    return asyncapi.document(catalog_of(service), topic, title)


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def command_context(request: Request, principal: Principal) -> EventContext:
    return EventContext(
        actor=principal.actor,
        correlation_id=request.headers.get("x-request-id"),
        traceparent=current_traceparent(),
    )


class FastJSONResponse(JSONResponse):
    """JSON rendered by orjson: the mutation path's response encoding at a fraction of the cost
    of `json.dumps` (UTF-8 output, like Starlette's `ensure_ascii=False`)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


async def execute_mutation(
    request: Request,
    principal: Principal,
    idempotency_key: str | None,
    body: BaseModel | Any,
    command: Callable[[EventTransaction], Awaitable[BaseModel | dict[str, Any] | orjson.Fragment]],
    status_code: int = 201,
    hint: object = None,
) -> JSONResponse:
    """Run a POST's command in the writer, recorded under its Idempotency-Key if given (the
    key's fingerprint is taken of `body`: a model, or JSON for a body taken unparsed). The
    command returns a model, or a JSON-ready dict when building models would cost more than the
    work itself (a bulk response of 10,000 items), or that JSON already rendered (an
    `orjson.Fragment`: rendered while the database writes, see `bulk.run_bulk_request`)."""
    claim = None
    if idempotency_key is not None:
        claim = claim_for(
            principal.actor,
            idempotency_key,
            request.method,
            request.url.path,
            body.model_dump(mode="json") if isinstance(body, BaseModel) else body,
        )

    async def handler(tx: EventTransaction) -> StoredResponse:
        result = await command(tx)
        body = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
        return StoredResponse(status_code, body)

    stored = await runtime_of(request).writer.execute(
        idempotent(claim, handler), command_context(request, principal), hint, claim
    )
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else None
    return FastJSONResponse(stored.body, status_code=stored.status_code, headers=headers)
