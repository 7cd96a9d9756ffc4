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

import orjson
from fastapi import Header

from libs.events.canonical import canonical_json
from libs.events.store import EventTransaction
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


def idempotent(claim: IdempotencyClaim | None, handler: Handler) -> Handler:
    """Wrap a writer command so that its response is recorded under the claim."""
    if claim is None:
        return handler

    async def command(tx: EventTransaction) -> StoredResponse:
        row = await tx.fetchrow(
            "SELECT request_hash, status_code, response FROM idempotency_keys"
            " WHERE scope = $1 AND key = $2",
            claim.scope,
            claim.key,
        )
        if row is not None:
            if row["request_hash"] != claim.request_hash:
                raise IdempotencyKeyReused(
                    f"key {claim.key!r} was first used with a different request"
                )
            return StoredResponse(row["status_code"], orjson.loads(row["response"]), True)
        response = await handler(tx)
        inserted = await tx.fetchval(
            "INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true",
            claim.scope,
            claim.key,
            claim.request_hash,
            response.status_code,
            orjson.dumps(response.body).decode(),
        )
        if not inserted:  # another replica took the key between our read and write
            raise IdempotencyKeyReused(f"key {claim.key!r} is being used by a concurrent request")
        return response

    return command
