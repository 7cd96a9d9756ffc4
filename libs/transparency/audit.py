"""The auditor's check of one service's log, from what the service publishes and nothing else
(`tanhui ledger verify`): the signed checkpoint opened with the service's key; every event up
to its size re-hashed (JCS, docs/events.md) and chained to the one before; the Merkle root of
those hashes equal to the checkpoint's; and, given a checkpoint seen before, the consistency
proof that the log only grew since."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from libs.events.envelope import GENESIS_HASH, Envelope
from libs.transparency import merkle
from libs.transparency.checkpoint import Checkpoint, CheckpointInvalid, Verifier

PAGE = 5000


@dataclass
class AuditReport:
    origin: str
    size: int
    root: str  # hex
    verifier: str
    problems: list[str] = field(default_factory=list)
    consistent_with: int | None = None  # the size of the earlier checkpoint proven a prefix

    @property
    def ok(self) -> bool:
        return not self.problems


async def audit_log(
    client: httpx.AsyncClient, verifier: Verifier | None, previous_note: str | None = None
) -> tuple[AuditReport, str]:
    """The report and the checkpoint note it checked (keep it: the next audit's `previous`).
    `verifier`: the key known to the auditor; without one, the key the service publishes."""
    if verifier is None:
        verifier = Verifier.parse((await _get(client, "/v1/ledger/key")).json()["verifier"])
    note = (await _get(client, "/v1/ledger/checkpoint")).text
    checkpoint = verifier.open(note)
    report = AuditReport(checkpoint.origin, checkpoint.size, checkpoint.root.hex(), verifier.text())
    leaves = await _checked_leaves(client, checkpoint.size, report.problems)
    if len(leaves) == checkpoint.size:
        computed = merkle.root(checkpoint.size, merkle.range_hash_of(leaves))
        if computed != checkpoint.root:
            report.problems.append("the events' Merkle root is not the checkpoint's")
    if previous_note is not None:
        await _check_consistency(client, verifier.open(previous_note), checkpoint, report)
    return report, note


async def _checked_leaves(client: httpx.AsyncClient, size: int, problems: list[str]) -> list[bytes]:
    """The leaf hashes of events 1..size, each event's hash and chain checked on the way."""
    leaves: list[bytes] = []
    previous = GENESIS_HASH
    while len(leaves) < size:
        page = await _get(client, f"/v1/ledger/events?after={len(leaves)}&limit={PAGE}")
        events = [Envelope.model_validate(e) for e in page.json()["events"]]
        if not events:
            problems.append(f"the log ends at {len(leaves)}, before the checkpoint's {size}")
            break
        for event in events[: size - len(leaves)]:
            expected = len(leaves) + 1
            if event.sequence != expected:
                problems.append(f"sequence {event.sequence} where {expected} was due")
            if event.prevhash != previous:
                problems.append(f"event {event.sequence} does not chain to the one before")
            if event.computed_hash() != event.hash:
                problems.append(f"event {event.sequence}'s hash is not its content's")
            previous = event.hash
            leaves.append(merkle.leaf_hash(bytes.fromhex(event.hash)))
    return leaves


async def _check_consistency(
    client: httpx.AsyncClient, earlier: Checkpoint, now: Checkpoint, report: AuditReport
) -> None:
    if earlier.origin != now.origin or earlier.size > now.size:
        report.problems.append(f"the earlier checkpoint ({earlier.size}) is not of this log")
        return
    if earlier.size == 0:
        report.consistent_with = 0
        return
    proof = (
        await _get(client, f"/v1/ledger/proofs/consistency?first={earlier.size}&second={now.size}")
    ).json()
    hashes = [bytes.fromhex(h) for h in proof["hashes"]]
    if merkle.verify_consistency(earlier.size, now.size, hashes, earlier.root, now.root):
        report.consistent_with = earlier.size
    else:
        report.problems.append(f"the log of {earlier.size} was rewritten, not extended")


async def _get(client: httpx.AsyncClient, path: str) -> httpx.Response:
    response = await client.get(path)
    if response.status_code != 200:
        raise CheckpointInvalid(f"GET {path}: {response.status_code} {response.text[:200]}")
    return response
