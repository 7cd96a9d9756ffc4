"""CCER bridge-in (DESIGN §3): units mirrored from the national registry, with their external
serials, issued here as a `CCER` batch. No external unit of a source is ever imported twice."""

from __future__ import annotations

import asyncpg

from libs.events.contract.registry import CreditsImported, Movement, Position
from libs.events.store import EventTransaction
from services.registry import holdings_store, store
from services.registry.access import check_open
from services.registry.domain.errors import (
    ImportOverlaps,
    InvalidImport,
)
from services.registry.domain.external import InvalidExternalRange, parse_external_range
from services.registry.domain.ledger import Holding
from services.registry.domain.serials import AGRICULTURE_SCOPE, BatchId, format_block
from services.registry.provenance import append_movement_event
from services.registry.schemas import BlockView, ImportCredits, ImportView


async def import_credits(tx: EventTransaction, body: ImportCredits) -> ImportView:
    try:
        external = parse_external_range(body.external_start, body.external_end)
    except InvalidExternalRange as exc:
        raise InvalidImport(str(exc)) from exc
    check_open(body.account, await store.get_account(tx, body.account))
    if await tx.fetchval(
        "SELECT 1 FROM imports WHERE source = $1 AND prefix = $2 AND units && int8range($3, $4, '[]')",
        body.source,
        external.prefix,
        external.first,
        external.last,
    ):
        raise ImportOverlaps(
            f"{body.source} {body.external_start}..{body.external_end} overlaps an earlier import"
        )
    seq = await store.next_batch_seq(tx, "CCER", body.project, body.vintage)
    batch = BatchId("CCER", AGRICULTURE_SCOPE, body.project, body.vintage, seq)
    first = await store.last_unit(tx, body.project) + 1
    last = first + external.count - 1
    number = await tx.fetchval("SELECT nextval('operation_numbers')")
    import_id = f"IMP-{number:08d}"
    movement = Movement(
        batch_id=str(batch),
        start=first,
        end=last,
        to=Position(account=body.account, state="available"),
    )
    event = CreditsImported(
        import_id=import_id,
        batch_id=str(batch),
        source=body.source,
        external_start=body.external_start,
        external_end=body.external_end,
        external_count=external.count,
        project=body.project,
        vintage=body.vintage,
        start=first,
        end=last,
        account=body.account,
        movements=[movement],
    )
    await append_movement_event(tx, f"import/{import_id}", 0, event)
    await store.insert_batch(
        tx, str(batch), "CCER", batch.scope, body.project, body.vintage, seq, first, last
    )
    await holdings_store.insert_holdings(
        tx, [Holding(str(batch), first, last, body.account, "available", body.vintage)]
    )
    try:
        await tx.execute(
            "INSERT INTO imports (id, batch_id, source, external_start, external_end, prefix, units)"
            " VALUES ($1, $2, $3, $4, $5, $6, int8range($7, $8, '[]'))",
            import_id,
            str(batch),
            body.source,
            body.external_start,
            body.external_end,
            external.prefix,
            external.first,
            external.last,
        )
    except asyncpg.ExclusionViolationError as exc:  # another replica imported it meanwhile
        raise ImportOverlaps("these external serials were imported concurrently") from exc
    block = BlockView(
        serial=format_block(str(batch), first, last),
        batch_id=str(batch),
        start=first,
        end=last,
        quantity=external.count,
        account=body.account,
        state="available",
    )
    return ImportView(
        id=import_id,
        batch_id=str(batch),
        source=body.source,
        external_start=body.external_start,
        external_end=body.external_end,
        blocks=[block],
    )
