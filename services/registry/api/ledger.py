"""The log for auditors and the state digest (docs/rest.md)."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from libs.events.envelope import Envelope
from libs.events.store import envelopes_to_json_lines
from libs.servicekit.app import runtime_of
from libs.servicekit.auth import Principal, require_roles
from services.registry import audit

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])
READERS = ("auditor", "regulator", "registry_admin")


class EventPage(BaseModel):
    events: list[Envelope]
    next_after: int | None


class DigestView(BaseModel):
    sequence: int
    hash: str
    state_digest: str


@router.get(
    "/events",
    response_model=EventPage,
    summary="The hash-chained log from a position; NDJSON with Accept: application/x-ndjson",
)
async def events(
    request: Request,
    after: int = Query(default=0, ge=0),
    limit: int = Query(default=1000, ge=1, le=10_000),
    principal: Principal = Depends(require_roles(*READERS)),
) -> Response:
    page = await runtime_of(request).store.read_after(after, limit)
    if "application/x-ndjson" in request.headers.get("accept", ""):
        return Response(envelopes_to_json_lines(page), media_type="application/x-ndjson")
    next_after = page[-1].sequence if len(page) == limit else None
    body = {"events": [e.to_json_dict() for e in page], "next_after": next_after}
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/digest", response_model=DigestView, summary="Head of the log and the state digest")
async def digest(
    request: Request, principal: Principal = Depends(require_roles(*READERS))
) -> DigestView:
    result = await audit.digest(runtime_of(request).pool)
    return DigestView(sequence=result.sequence, hash=result.hash, state_digest=result.state_digest)
