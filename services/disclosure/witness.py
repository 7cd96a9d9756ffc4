"""The witness (README, "Witness"): disclosure checks, every `witness_seconds`, that each other
service's log only grows. It pins the key a service first signed with, and for each new
checkpoint asks a consistency proof from the last one it accepted. A checkpoint that fails is
recorded as a finding, and the last good one stays: a log rewritten, forked or shrunk, or
signed by another key, is seen by someone outside the service that wrote it."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import orjson

from libs.transparency import merkle
from libs.transparency.checkpoint import Checkpoint, CheckpointInvalid, Verifier
from services.disclosure import witness_store
from services.disclosure.checkpoints import get_text, published, verifier_of

log = logging.getLogger(__name__)


class Finding(Exception):
    def __init__(self, problem: str, detail: str) -> None:
        super().__init__(detail)
        self.problem = problem


async def run_forever(
    pool: asyncpg.Pool, services: dict[str, httpx.AsyncClient], seconds: float
) -> None:
    while True:
        await asyncio.sleep(seconds)  # the others start too; a pass finding nothing waits
        for service, client in services.items():
            try:
                await witness(pool, service, client)
            except Exception:  # a monitor keeps watching: the next pass tries again
                log.exception("witness of %s failed", service)


async def witness(pool: asyncpg.Pool, service: str, client: httpx.AsyncClient) -> str:
    """Check `service`'s present checkpoint: "accepted", "unavailable" or the finding's name."""
    answers = await published(client)
    if answers is None:
        return "unavailable"
    key, note = answers
    now = datetime.now(UTC)
    last = await witness_store.last(pool, service)
    try:
        verifier = _verifier(key)
        checkpoint = await _judge(client, last, verifier, note)
    except Finding as finding:
        await witness_store.add_finding(pool, service, finding.problem, str(finding), note, now)
        log.error("witness of %s: %s (%s)", service, finding.problem, finding)
        return finding.problem
    except _Unavailable:
        return "unavailable"
    root = checkpoint.root.hex()
    await witness_store.record(pool, service, verifier.text(), checkpoint.size, root, note, now)
    return "accepted"


class _Unavailable(Exception):
    pass


def _verifier(key: str) -> Verifier:
    try:
        return verifier_of(key)
    except CheckpointInvalid as exc:
        raise Finding("unverified", str(exc)) from None


async def _judge(
    client: httpx.AsyncClient, last: dict[str, Any] | None, published: Verifier, note: str
) -> Checkpoint:
    """The checkpoint `note`, if it extends the last accepted one under the pinned key."""
    if last is not None and published.text() != last["verifier"]:
        raise Finding("key-changed", f"now {published.text()}, pinned {last['verifier']}")
    try:
        checkpoint = published.open(note)
    except CheckpointInvalid as exc:
        raise Finding("unverified", str(exc)) from None
    if last is None or (checkpoint.size, checkpoint.root.hex()) == (last["size"], last["root"]):
        return checkpoint
    if checkpoint.size <= last["size"]:
        problem = "shrank" if checkpoint.size < last["size"] else "forked"
        raise Finding(problem, f"size {checkpoint.size} after {last['size']}")
    if last["size"] == 0:
        return checkpoint  # the empty log is a prefix of every log
    proof = await get_text(
        client, f"/v1/ledger/proofs/consistency?first={last['size']}&second={checkpoint.size}"
    )
    if proof is None:
        raise _Unavailable()
    hashes = [bytes.fromhex(h) for h in _json(proof)["hashes"]]
    earlier = bytes.fromhex(last["root"])
    if not merkle.verify_consistency(
        last["size"], checkpoint.size, hashes, earlier, checkpoint.root
    ):
        raise Finding(
            "rewritten", f"the log of {last['size']} is not a prefix of {checkpoint.size}"
        )
    return checkpoint


def _json(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise Finding("unverified", "an answer that is not JSON") from None
