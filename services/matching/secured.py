"""A command whose leg is secured outside the database (units escrowed, cash reserved) before
it runs. A use case asks `earlier_answer` first: a key already answered replays its answer
before anything is checked or secured again (a retry after the trade settled gets the trade,
not a refusal about the state it left). If the command refuses, the refusal is the request's
recorded answer under its key and the leg is released, so a retry neither secures twice nor
finds the leg gone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from libs.events.store import EventTransaction
from libs.problems import PROBLEM_JSON, Problem
from libs.servicekit.app import FastJSONResponse, command_context, runtime_of
from libs.servicekit.auth import Principal
from libs.servicekit.idempotency import (
    IdempotencyClaim,
    StoredResponse,
    answered,
    claim_for,
    idempotent,
)
from services.matching.legs import SecuredLeg


def _claim(
    request: Request, principal: Principal, key: str | None, body: BaseModel
) -> IdempotencyClaim | None:
    if key is None:
        return None
    return claim_for(
        principal.actor, key, request.method, request.url.path, body.model_dump(mode="json")
    )


async def earlier_answer(
    request: Request, principal: Principal, key: str | None, body: BaseModel
) -> JSONResponse | None:
    """The answer stored under this request's key, replayed; None if it has none yet."""
    claim = _claim(request, principal, key, body)
    stored = await answered(runtime_of(request).pool, claim) if claim is not None else None
    return None if stored is None else _response(stored)


async def run_secured(
    request: Request,
    principal: Principal,
    key: str | None,
    body: BaseModel,
    secure: Callable[[], Awaitable[SecuredLeg]],
    command: Callable[[EventTransaction, SecuredLeg], Awaitable[BaseModel]],
) -> JSONResponse:
    claim = _claim(request, principal, key, body)
    leg = await secure()
    instance = request.url.path

    async def handler(tx: EventTransaction) -> StoredResponse:
        try:
            result = await command(tx, leg)
        except Problem as refused:  # raised before the command wrote anything
            return StoredResponse(refused.status, refused.body(instance))
        return StoredResponse(201, result.model_dump(mode="json"))

    stored = await runtime_of(request).writer.execute(
        idempotent(claim, handler), command_context(request, principal), None, claim
    )
    if stored.status_code >= 400 and not stored.replayed:
        await leg.release()
    return _response(stored)


def _response(stored: StoredResponse) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else None
    if stored.status_code >= 400:
        return JSONResponse(
            stored.body, status_code=stored.status_code, media_type=PROBLEM_JSON, headers=headers
        )
    return FastJSONResponse(stored.body, status_code=stored.status_code, headers=headers)
