"""Every service's transparency-log head for the public portal: each one's latest signed
checkpoint, opened with the key it publishes (a checkpoint that does not verify is shown as
such, never as a head). `published` and `verifier_of` also serve the witness (`witness.py`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg
import httpx
import orjson

from libs.servicekit.ledger import Transparency
from libs.transparency.checkpoint import CheckpointInvalid, Verifier


@dataclass(frozen=True)
class LogHead:
    service: str
    size: int | None = None
    root: str | None = None  # hex
    verifier: str | None = None
    problem: str | None = None  # "unavailable" or "unverified"


async def heads(
    own: Transparency, pool: asyncpg.Pool, others: dict[str, httpx.AsyncClient]
) -> list[LogHead]:
    mine = await own.present(pool)
    found = [LogHead("disclosure", mine.size, mine.root.hex(), own.signer.verifier.text())]
    found += await asyncio.gather(*(_head(name, c) for name, c in others.items()))
    return sorted(found, key=lambda head: head.service)


async def _head(service: str, client: httpx.AsyncClient) -> LogHead:
    answers = await published(client)
    if answers is None:
        return LogHead(service, problem="unavailable")
    key, note = answers
    try:
        verifier = verifier_of(key)
        checkpoint = verifier.open(note)
    except CheckpointInvalid:
        return LogHead(service, problem="unverified")
    return LogHead(service, checkpoint.size, checkpoint.root.hex(), verifier.text())


async def published(client: httpx.AsyncClient) -> tuple[str, str] | None:
    """A service's published key (`/v1/ledger/key`, JSON) and present checkpoint (the note),
    or None when it cannot answer now."""
    key, note = (
        await get_text(client, "/v1/ledger/key"),
        await get_text(client, "/v1/ledger/checkpoint"),
    )
    return None if key is None or note is None else (key, note)


def verifier_of(key: str) -> Verifier:
    """The verifier in a `/v1/ledger/key` answer; CheckpointInvalid if there is none."""
    try:
        return Verifier.parse(orjson.loads(key)["verifier"])
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise CheckpointInvalid(f"the published key: {exc!r}") from None


async def get_text(client: httpx.AsyncClient, path: str) -> str | None:
    try:
        answer = await client.get(path)
    except httpx.HTTPError:
        return None
    return answer.text if answer.status_code == 200 else None
