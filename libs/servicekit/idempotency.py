"""`Idempotency-Key` for every POST.

The key is stored with a hash of the request (method, path, canonical JSON body) and the first
response, in the same transaction as the command's effects — so a replay can never observe
effects without the stored response, or the reverse. A replay with the same request gets the
first response; the same key with another request gets 409.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
from fastapi import Header

from libs.events.canonical import canonical_json
from libs.events.flush_sql import Table
from libs.events.store import EventTransaction
from libs.events.unit_of_work import Deferrals
from libs.problems import IdempotencyKeyReused, InvalidIdempotencyKey

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class IdempotencyClaim:
    scope: str
    key: str
    request_hash: str


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any
    replayed: bool = False


async def idempotency_key(  # async: FastAPI runs a sync dependency in a worker thread
    key: str | None = Header(
        default=None,
        alias="Idempotency-Key",
        description="Client-chosen key making this POST safe to retry (1–255 visible ASCII).",
    ),
) -> str | None:
    if key is None:
        return None
    if not (1 <= len(key) <= MAX_KEY_LENGTH) or not key.isascii() or not key.isprintable():
        raise InvalidIdempotencyKey("use 1–255 visible ASCII characters")
    return key


def claim_for(
    scope: str, key: str | None, method: str, path: str, body: Any
) -> IdempotencyClaim | None:
    if key is None:
        return None
    digest = hashlib.sha256(
        method.encode() + b" " + path.encode() + b"\n" + canonical_json(body)
    ).hexdigest()
    return IdempotencyClaim(scope, key, digest)


Handler = Callable[[EventTransaction], Awaitable[StoredResponse]]

KEYS = Table(
    "idempotency_keys",
    (
        ("scope", "text"),
        ("key", "text"),
        ("request_hash", "text"),
        ("status_code", "int"),
        ("response", "json"),
    ),
)


def idempotent(claim: IdempotencyClaim | None, handler: Handler) -> Handler:
    """Wrap a writer command so that its response is recorded under the claim.

    In an optimistic batch (the common case) the first keyed command looks up every key of the
    batch in one query and the responses are written with the batch's flush: no round trip of
    its own per keyed command. Anything unusual — the same key twice in one batch, a key
    another replica stored meanwhile (a unique violation at the flush) — re-runs the batch
    pessimistically, where each command reads and writes its key itself, exactly."""
    if claim is None:
        return handler

    async def command(tx: EventTransaction) -> StoredResponse:
        if not tx.optimistic:
            return await _one_by_one(tx, claim, handler)
        keys = tx.work("idempotency", _BatchKeys)
        stored = await keys.lookup(tx, claim)
        if stored is not None:
            return stored
        response = await handler(tx)
        keys.record(claim, response)
        return response

    return command


class _BatchKeys:
    """The idempotency keys of one optimistic transaction (a `UnitOfWork`)."""

    def __init__(self) -> None:
        self.found: dict[tuple[str, str], asyncpg.Record] | None = None
        self.used: set[tuple[str, str]] = set()
        self.rows: list[tuple[str, str, str, int, Any]] = []

    async def lookup(self, tx: EventTransaction, claim: IdempotencyClaim) -> StoredResponse | None:
        if self.found is None:
            claims = [c for c in tx.claims if isinstance(c, IdempotencyClaim)] or [claim]
            rows = await tx.fetch(_LOOKUP_MANY, [c.scope for c in claims], [c.key for c in claims])
            self.found = {(row["scope"], row["key"]): row for row in rows}
        at = (claim.scope, claim.key)
        if at in self.used:  # twice in one batch: decided one after the other, pessimistically
            raise KeyUsedTwiceInBatch(claim.key)
        self.used.add(at)
        row = self.found.get(at)
        return None if row is None else _replayed(row, claim)

    def record(self, claim: IdempotencyClaim, response: StoredResponse) -> None:
        self.rows.append(
            (claim.scope, claim.key, claim.request_hash, response.status_code, response.body)
        )

    def flush(self, tx: Deferrals) -> None:
        tx.defer_rows(KEYS, self.rows)
        self.rows = []

    def kept(self) -> None:
        return None


class KeyUsedTwiceInBatch(Exception):
    """Two requests with one key met in one optimistic batch (the batch re-runs)."""


async def _one_by_one(
    tx: EventTransaction, claim: IdempotencyClaim, handler: Handler
) -> StoredResponse:
    row = await tx.fetchrow(_LOOKUP_ONE, claim.scope, claim.key)
    if row is not None:
        return _replayed(row, claim)
    response = await handler(tx)
    inserted = await tx.fetchval(
        _INSERT_ONE,
        claim.scope,
        claim.key,
        claim.request_hash,
        response.status_code,
        orjson.dumps(response.body).decode(),
    )
    if not inserted:  # another replica took the key between our read and write
        raise IdempotencyKeyReused(f"key {claim.key!r} is being used by a concurrent request")
    return response


async def answered(conn: Any, claim: IdempotencyClaim) -> StoredResponse | None:
    """The response stored under the claim's key, if any (409 for another request's key): a
    command that calls other systems before it runs asks first, so a late retry replays the
    answer instead of calling them again."""
    row = await conn.fetchrow(_LOOKUP_ONE, claim.scope, claim.key)
    return None if row is None else _replayed(row, claim)


def _replayed(row: asyncpg.Record, claim: IdempotencyClaim) -> StoredResponse:
    if row["request_hash"] != claim.request_hash:
        raise IdempotencyKeyReused(f"key {claim.key!r} was first used with a different request")
    return StoredResponse(row["status_code"], orjson.loads(row["response"]), True)


_LOOKUP_ONE = (
    "SELECT request_hash, status_code, response FROM idempotency_keys WHERE scope = $1 AND key = $2"
)
_LOOKUP_MANY = (
    "SELECT k.scope, k.key, k.request_hash, k.status_code, k.response"
    " FROM idempotency_keys k JOIN unnest($1::text[], $2::text[]) AS c(scope, key)"
    " ON k.scope = c.scope AND k.key = c.key"
)
_INSERT_ONE = (
    "INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response)"
    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true"
)
