"""The registry's state digest for auditors (docs/rest.md); the log itself and its
transparency log are every service's (`libs/servicekit/ledger.py`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from libs.servicekit.app import runtime_of
from libs.servicekit.auth import Principal, require_roles
from libs.servicekit.ledger import READERS
from services.registry import audit

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])


class DigestView(BaseModel):
    sequence: int
    hash: str
    state_digest: str


@router.get("/digest", response_model=DigestView, summary="Head of the log and the state digest")
async def digest(
    request: Request, principal: Principal = Depends(require_roles(*READERS))
) -> DigestView:
    result = await audit.digest(runtime_of(request).pool)
    return DigestView(sequence=result.sequence, hash=result.hash, state_digest=result.state_digest)
