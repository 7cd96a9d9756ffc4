"""Every service's transparency-log head for the public portal: each one's latest signed
checkpoint, opened with the key it publishes (a checkpoint that does not verify is shown as
such, never as a head)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg
import httpx

from libs.servicekit.ledger import Transparency
from libs.transparency.checkpoint import Checkpoint, CheckpointInvalid, Verifier


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
    size = await own.tree.size(pool)
    mine = Checkpoint(own.origin, size, await own.tree.root(pool, size))
    found = [LogHead("disclosure", mine.size, mine.root.hex(), own.signer.verifier.text())]
    found += await asyncio.gather(*(_head(name, c) for name, c in others.items()))
    return sorted(found, key=lambda head: head.service)


async def _head(service: str, client: httpx.AsyncClient) -> LogHead:
    try:
        key = await client.get("/v1/ledger/key")
        note = await client.get("/v1/ledger/checkpoint")
    except httpx.HTTPError:
        return LogHead(service, problem="unavailable")
    if key.status_code != 200 or note.status_code != 200:
        return LogHead(service, problem="unavailable")
    try:
        verifier = Verifier.parse(key.json()["verifier"])
        checkpoint = verifier.open(note.text)
    except (CheckpointInvalid, KeyError, ValueError):
        return LogHead(service, problem="unverified")
    return LogHead(service, checkpoint.size, checkpoint.root.hex(), verifier.text())
