"""Every service's `/v1/ledger`: its log for auditors, and its transparency log for anyone —
the signed checkpoint, the key that signs it, inclusion and consistency proofs (RFC 9162;
docs/events.md, "Transparency log")."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from libs.events.envelope import Envelope
from libs.events.store import Queryable, envelopes_to_json_lines
from libs.problems import PROBLEM_JSON, NotFound
from libs.servicekit.auth import Principal, require_roles
from libs.servicekit.settings import ServiceSettings
from libs.transparency.checkpoint import Checkpoint, Signer, load_key
from libs.transparency.log_tree import LogTree, NotInTree

READERS = ("auditor", "regulator", "registry_admin")
SIZE = Query(default=None, ge=1, le=2**62, description="a tree size; the present one if absent")

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])


@dataclass
class Transparency:
    """A service's transparency log: the Merkle tree over its log and the key that signs it."""

    origin: str
    signer: Signer
    tree: LogTree = field(default_factory=LogTree)

    @classmethod
    def of(cls, settings: ServiceSettings) -> Transparency:
        """The key of `TANHUI_LEDGER_KEY_FILE` (made there in development when missing), or a
        key for this process alone when no file is set (tests; production refuses to start)."""
        origin = f"tanhui/{settings.service}"
        path: Path | None = settings.ledger_key_file
        create = settings.env != "production"
        key = load_key(path, create) if path else Ed25519PrivateKey.generate()
        return cls(origin, Signer(origin, key))

    async def present(self, pool: Queryable) -> Checkpoint:
        """The log's present size and root (`signer.sign` makes it the published note)."""
        size = await self.tree.size(pool)
        return Checkpoint(self.origin, size, await self.tree.root(pool, size))


class EventPage(BaseModel):
    events: list[Envelope]
    next_after: int | None


class LedgerKey(BaseModel):
    origin: str
    verifier: str = Field(description="<name>+<key id>+<base64(0x01 || Ed25519 public key)>")


class InclusionProof(BaseModel):
    sequence: int
    tree_size: int
    leaf_hash: str = Field(description="SHA-256(0x00 || the event's hash), hex")
    hashes: list[str] = Field(description="the audit path, leaf side first, hex")


class ConsistencyProof(BaseModel):
    first: int
    second: int
    hashes: list[str]


def _transparency(request: Request) -> Transparency:
    return request.app.state.runtime.transparency  # type: ignore[no-any-return]


@router.get(
    "/events",
    response_model=EventPage,
    summary="The hash-chained log from a position; NDJSON with Accept: application/x-ndjson",
)
async def events(
    request: Request,
    after: int = Query(default=0, ge=0, le=2**62),
    limit: int = Query(default=1000, ge=1, le=10_000),
    stream: str | None = Query(default=None, max_length=200, description="one stream's events"),
    principal: Principal = Depends(require_roles(*READERS)),
) -> Response:
    store = request.app.state.runtime.store
    if stream is None:
        page = await store.read_after(after, limit)
    else:  # one entity's history, paged the same way
        page = await store.read_stream_after(stream, after, limit)
    if "application/x-ndjson" in request.headers.get("accept", ""):
        return Response(envelopes_to_json_lines(page), media_type="application/x-ndjson")
    next_after = page[-1].sequence if len(page) == limit else None
    body = {"events": [e.to_json_dict() for e in page], "next_after": next_after}
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/key", response_model=LedgerKey, summary="The key that signs this log's checkpoints")
async def key(request: Request) -> LedgerKey:
    transparency = _transparency(request)
    return LedgerKey(origin=transparency.origin, verifier=transparency.signer.verifier.text())


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    summary="The log's present size and Merkle root, signed (a signed note)",
)
async def checkpoint(request: Request) -> PlainTextResponse:
    transparency = _transparency(request)
    note = transparency.signer.sign(await transparency.present(request.app.state.runtime.pool))
    return PlainTextResponse(note, headers={"Cache-Control": "no-store"})


@router.get(
    "/proofs/inclusion",
    response_model=InclusionProof,
    responses={404: {"content": {PROBLEM_JSON: {}}}},
    summary="That the event of `sequence` is in the tree of `tree_size` entries",
)
async def inclusion(
    request: Request,
    sequence: int = Query(ge=1, le=2**62),
    tree_size: int | None = SIZE,
) -> InclusionProof:
    tree, pool = _transparency(request).tree, request.app.state.runtime.pool
    size = tree_size or await tree.size(pool)
    if sequence > size:
        raise NotFound(f"event {sequence} is not in a tree of {size} entries")
    try:
        path = await tree.inclusion(pool, sequence - 1, size)
    except NotInTree as exc:
        raise NotFound(str(exc)) from None
    leaf = await tree.leaf(pool, sequence - 1)
    return InclusionProof(
        sequence=sequence, tree_size=size, leaf_hash=leaf.hex(), hashes=[h.hex() for h in path]
    )


@router.get(
    "/proofs/consistency",
    response_model=ConsistencyProof,
    responses={404: {"content": {PROBLEM_JSON: {}}}},
    summary="That the tree of `first` entries is a prefix of the tree of `second`",
)
async def consistency(
    request: Request, first: int = Query(ge=1, le=2**62), second: int | None = SIZE
) -> ConsistencyProof:
    tree, pool = _transparency(request).tree, request.app.state.runtime.pool
    size = second or await tree.size(pool)
    if first > size:
        raise NotFound(f"no tree of {first} entries before one of {size}")
    try:
        proof = await tree.consistency(pool, first, size)
    except NotInTree as exc:
        raise NotFound(str(exc)) from None
    return ConsistencyProof(first=first, second=size, hashes=[h.hex() for h in proof])
