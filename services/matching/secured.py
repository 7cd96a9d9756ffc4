"""A command whose leg was secured outside the database (units escrowed, cash reserved) before
it runs: if the command refuses, the refusal is the request's recorded answer under its key and
the leg is released, so a retry neither secures twice nor finds the leg gone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from libs.events.store import EventTransaction
from libs.problems import PROBLEM_JSON, Problem
from libs.servicekit.app import FastJSONResponse, command_context, runtime_of
from libs.servicekit.auth import Principal
from libs.servicekit.idempotency import StoredResponse, claim_for, idempotent


async def run_secured(
    request: Request,
    principal: Principal,
    key: str | None,
    body: BaseModel,
    command: Callable[[EventTransaction], Awaitable[BaseModel]],
    release: Callable[[], Awaitable[object]],
) -> JSONResponse:
    claim = None
    if key is not None:
        claim = claim_for(
            principal.actor, key, request.method, request.url.path, body.model_dump(mode="json")
        )
    instance = request.url.path

    async def handler(tx: EventTransaction) -> StoredResponse:
        try:
            result = await command(tx)
        except Problem as refused:  # raised before the command wrote anything
            return StoredResponse(refused.status, refused.body(instance))
        return StoredResponse(201, result.model_dump(mode="json"))

    writer = runtime_of(request).writer
    stored = await writer.execute(
        idempotent(claim, handler), command_context(request, principal), None, claim
    )
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else None
    if stored.status_code >= 400:
        if not stored.replayed:
            await release()
        return JSONResponse(
            stored.body, status_code=stored.status_code, media_type=PROBLEM_JSON, headers=headers
        )
    return FastJSONResponse(stored.body, status_code=stored.status_code, headers=headers)
