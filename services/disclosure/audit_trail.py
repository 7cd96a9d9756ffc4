"""Supervision's audit trail: one stream's events (an entity's history: `account/ACC-000001`,
`project/QP0007`, `trade/…`) from every service's log, asked with the regulator's own token and
merged in time order. A service that cannot answer is named, never silently left out."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx

from libs.events.store import EventStore

LIMIT = 10_000  # events per service and stream


@dataclass
class Trail:
    stream: str
    events: list[dict[str, Any]] = field(default_factory=list)  # {service, event}
    unavailable: list[str] = field(default_factory=list)


async def trail(
    stream: str, own: EventStore, others: dict[str, httpx.AsyncClient], authorization: str
) -> Trail:
    found = Trail(stream)
    asked = await asyncio.gather(*(_ask(c, stream, authorization) for c in others.values()))
    for service, events in zip(others, asked, strict=True):
        if events is None:
            found.unavailable.append(service)
        else:
            found.events += [{"service": service, "event": e} for e in events]
    mine = await own.read_stream_after(stream, 0, LIMIT)
    found.events += [{"service": own.service, "event": e.to_json_dict()} for e in mine]
    found.events.sort(key=lambda item: (item["event"]["time"], item["service"]))
    return found


async def _ask(
    client: httpx.AsyncClient, stream: str, authorization: str
) -> list[dict[str, Any]] | None:
    try:
        answer = await client.get(
            "/v1/ledger/events",
            params={"stream": stream, "limit": LIMIT},
            headers={"Authorization": authorization},
        )
    except httpx.HTTPError:
        return None
    if answer.status_code != 200:
        return None
    events: list[dict[str, Any]] = answer.json()["events"]
    return events
