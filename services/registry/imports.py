"""CCER bridge-in (docs/domain.md): units mirrored from the national registry, with their external
serials, issued here as a `CCER` batch. No external unit of a source is ever imported twice."""

from __future__ import annotations

from libs.events.contract.registry import CreditsImported
from libs.events.store import EventTransaction
from services.registry import store
from services.registry.access import check_open
from services.registry.decisions import Decision, Emit, NewBatch, run
from services.registry.domain.errors import (
    ImportOverlaps,
    InvalidImport,
)
from services.registry.domain.external import InvalidExternalRange, parse_external_range
from services.registry.domain.ledger import Holding
from services.registry.domain.serials import AGRICULTURE_SCOPE, BatchId
from services.registry.movements import block_data, movement_data
from services.registry.schemas import BlockView, ImportCredits, ImportView


async def import_credits(tx: EventTransaction, body: ImportCredits) -> ImportView:
    try:
        external = parse_external_range(body.external_start, body.external_end)
    except InvalidExternalRange as exc:
        raise InvalidImport(str(exc)) from exc
    check_open(body.account, await store.get_account(tx, body.account))
    if await store.import_overlaps(tx, body.source, external):
        raise ImportOverlaps(
            f"{body.source} {body.external_start}..{body.external_end} overlaps an earlier import"
        )
    seq = await store.next_batch_seq(tx, "CCER", body.project, body.vintage)
    batch = str(BatchId("CCER", AGRICULTURE_SCOPE, body.project, body.vintage, seq))
    first = await store.last_unit(tx, body.project) + 1
    last = first + external.count - 1
    import_id = f"IMP-{await store.next_operation_number(tx):08d}"
    holding = Holding(batch, first, last, body.account, "available", body.vintage)
    moved = movement_data([holding], None)
    event = CreditsImported.model_validate(
        {
            "import_id": import_id,
            "batch_id": batch,
            "source": body.source,
            "external_start": body.external_start,
            "external_end": body.external_end,
            "external_count": external.count,
            "project": body.project,
            "vintage": body.vintage,
            "start": first,
            "end": last,
            "account": body.account,
            "movements": moved,
        }
    )
    view = ImportView(
        id=import_id,
        batch_id=batch,
        source=body.source,
        external_start=body.external_start,
        external_end=body.external_end,
        blocks=[BlockView.model_validate(block_data(holding))],
    )
    emit = Emit(f"import/{import_id}", 0, event, moved)
    new = NewBatch([holding], "CCER", body.project)
    await run(tx, lambda _: Decision(view, (emit,), new=new))  # new units: nothing to read
    await store.insert_batch(
        tx, batch, "CCER", AGRICULTURE_SCOPE, body.project, body.vintage, seq, first, last
    )
    external_text = (body.external_start, body.external_end)
    await store.insert_import(tx, import_id, batch, body.source, external_text, external)
    return view
