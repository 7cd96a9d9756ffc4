"""Reconciliation (对账): per batch, the registry's supply as it answers now against the read
model's totals as consumed from its log — so an auditor can see that what the public is shown
adds up to what the registry holds, and by how much the read model trails it.

The registry's answer needs a reader's token (`registry_token`, an auditor's); without one, or
without an answer, a row shows the read model alone. A difference with consumer lag on
`/readyz` is the log not consumed yet; a difference without it is a fault to investigate.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from libs.events.store import Queryable
from services.disclosure import store
from services.disclosure.schemas import BatchSupply, ReconciliationPage, ReconciliationRow

log = logging.getLogger(__name__)


class RegistrySupply:
    """The registry's `GET /v1/batches/{id}/supply`, read with disclosure's reader token."""

    def __init__(self, client: httpx.AsyncClient, token: str | None) -> None:
        self.client = client
        self.token = token

    async def of(self, batch_id: str) -> BatchSupply | None:
        if self.token is None:
            return None
        try:
            answer = await self.client.get(
                f"/v1/batches/{batch_id}/supply",
                headers={"Authorization": f"Bearer {self.token}"},
            )
        except httpx.HTTPError as exc:
            log.warning("registry supply of %s: %r", batch_id, exc)
            return None
        if answer.status_code != 200:
            log.warning("registry supply of %s: %s", batch_id, answer.status_code)
            return None
        body: dict[str, Any] = answer.json()
        return BatchSupply(
            issued=body["issued"],
            outstanding=body["available"] + body["held"],
            retired=body["retired"],
            cancelled=body["cancelled"],
        )


async def page(
    conn: Queryable, registry: RegistrySupply, topic: str, after: str | None, limit: int
) -> ReconciliationPage:
    """One page of batches in id order; `topic`: the registry's, as this service names it."""
    rows = await store.batch_totals_page(conn, after, limit)
    answers = await asyncio.gather(*(registry.of(r["batch_id"]) for r in rows))
    items = [
        ReconciliationRow(
            batch_id=row["batch_id"],
            read_model=_read_model(row),
            registry=answer,
            agrees=None if answer is None else answer == _read_model(row),
        )
        for row, answer in zip(rows, answers, strict=True)
    ]
    consumed = await store.consumed_through(conn, topic)
    return ReconciliationPage(
        items=items,
        next_cursor=rows[-1]["batch_id"] if len(rows) == limit else None,
        registry_events_consumed=consumed["events"],
        registry_sequence_consumed=consumed["sequence"],
    )


def _read_model(row: dict[str, Any]) -> BatchSupply:
    return BatchSupply(
        issued=row["issued"],
        outstanding=row["issued"] - row["retired"] - row["cancelled"],
        retired=row["retired"],
        cancelled=row["cancelled"],
    )
