"""`tanhui registry rebuild`: drop the projections, replay the log, prove nothing changed.

Every projection table is derived from the events alone, by one projector per event type, in
memory (blocks are simulated unit range by unit range, then merged as the live service merges
them). The projection digest — every row of every projection table, timestamps aside — is taken
before and after; a difference is reported and the rebuild rolled back. Plumbing tables (event
log, idempotency keys, processed events, relay positions) are not projections and stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from libs.events.catalog import EventPayload
from libs.events.contract import registry as contract
from libs.events.envelope import parse_time
from libs.events.store import EventStore
from services.registry import replay_store
from services.registry.derivatives_replay import DERIVATIVES_COLUMNS, DerivativesProjection
from services.registry.domain.escrow import is_purchase
from services.registry.domain.external import parse_external_range
from services.registry.domain.replay import LedgerReplay
from services.registry.domain.serials import BatchId, format_block
from services.registry.holdings_store import BLOCKS, HOLDS
from services.registry.provenance import MOVEMENTS, movement_rows
from services.registry.retirements_store import RETIREMENTS

# Projection tables and the columns compared by the digest (timestamps excluded: they are the
# database's clock at write time, not facts of the log).
DIGEST_COLUMNS = {
    "accounts": "id, owner, name, kind, program, status",
    "batches": "batch_id, program, scope, project, vintage, seq, start_unit, end_unit",
    "project_units": "project, last_unit",
    "blocks": "batch_id, start_unit, end_unit, account_id, state, vintage, hold_id, acquired_on",
    "retirements": "id, account, quantity, beneficiary, purpose, claim_period, note, blocks::text",
    "holds": "id, account, purpose, holder, status, quantity, expires_at, origin_account,"
    " reference, pledge",
    "imports": "id, batch_id, source, external_start, external_end, prefix, units",
    "movements": "sequence, batch_id, start_unit, end_unit, from_account, from_state,"
    " to_account, to_state",
    **DERIVATIVES_COLUMNS,
}


async def projection_digests(conn: asyncpg.Connection) -> dict[str, str]:
    """One digest per projection table over the compared columns, rows in key order."""
    return await replay_store.projection_digests(conn, DIGEST_COLUMNS)


@dataclass
class Projection:
    accounts: dict[str, list[Any]] = field(default_factory=dict)
    batches: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    project_units: dict[str, int] = field(default_factory=dict)
    blocks: LedgerReplay = field(default_factory=LedgerReplay)
    retirements: list[tuple[Any, ...]] = field(default_factory=list)
    holds: dict[str, list[Any]] = field(default_factory=dict)
    imports: list[tuple[Any, ...]] = field(default_factory=list)
    movements: list[tuple[Any, ...]] = field(default_factory=list)
    derivatives: DerivativesProjection = field(default_factory=DerivativesProjection)

    def apply(self, sequence: int, time: datetime, event: EventPayload) -> None:
        self.derivatives.apply(sequence, event)
        movements = list(getattr(event, "movements", []))
        if isinstance(event, contract.AccountOpened):
            self.accounts[event.account_id] = [
                event.account_id,
                event.owner,
                event.name,
                event.kind,
                event.program,
                "open",
            ]
        elif isinstance(event, contract.AccountFrozen | contract.AccountUnfrozen):
            self.accounts[event.account_id][5] = (
                "frozen" if isinstance(event, contract.AccountFrozen) else "open"
            )
        elif isinstance(event, contract.CreditsIssued | contract.CreditsImported):
            self._batch(event)
        elif isinstance(event, contract.CreditsRetired):
            blocks = _views(movements, event.account, "retired")
            self.retirements.append(
                (
                    event.retirement_id,
                    event.account,
                    event.quantity,
                    event.beneficiary,
                    event.purpose,
                    event.claim_period,
                    event.note,
                    blocks,
                    time,
                )
            )
        elif isinstance(event, contract.HoldPlaced):
            expires = parse_time(event.expires_at) if event.expires_at else None
            self.holds[event.hold_id] = [
                event.hold_id,
                event.account,
                event.purpose,
                event.holder,
                "active",
                event.quantity,
                expires,
                time,
                None,
                event.reference,
                orjson.dumps(event.pledge.model_dump()).decode() if event.pledge else None,
            ]
        elif isinstance(event, contract.HoldReleased):
            self.holds[event.hold_id][4] = "released"
        elif isinstance(event, contract.HoldExecuted):
            self._executed(event, time)
        moved = [m.model_dump(by_alias=True) for m in movements]
        self._move(event, moved, sequence, time)
        self.movements += movement_rows(sequence, moved)

    def _batch(self, event: contract.CreditsIssued | contract.CreditsImported) -> None:
        batch = BatchId.parse(event.batch_id)
        self.batches[event.batch_id] = (
            event.batch_id,
            batch.program,
            batch.scope,
            event.project,
            event.vintage,
            batch.seq,
            event.start,
            event.end,
        )
        self.project_units[event.project] = max(self.project_units.get(event.project, 0), event.end)
        if isinstance(event, contract.CreditsImported):
            external = parse_external_range(event.external_start, event.external_end)
            self.imports.append(
                (
                    event.import_id,
                    event.batch_id,
                    event.source,
                    event.external_start,
                    event.external_end,
                    external.prefix,
                    asyncpg.Range(external.first, external.last + 1),
                )
            )

    def _executed(self, event: contract.HoldExecuted, time: datetime) -> None:
        hold = self.holds[event.hold_id]
        if event.remaining == 0:
            hold[4] = "executed"
        if event.delivered_hold_id is not None:
            origin = hold[8] or hold[1]
            self.holds[event.delivered_hold_id] = [
                event.delivered_hold_id,
                event.to_account,
                hold[2],
                hold[3],
                "active",
                event.quantity,
                None,
                time,
                origin,
                None,
                hold[10],  # a delivered pledge keeps its loan terms
            ]

    def _move(
        self, event: EventPayload, moved: list[dict[str, Any]], sequence: int, time: datetime
    ) -> None:
        """The event's movements through the block projector, with the hold and acquisition
        date the event gives the units it moves."""
        hold_id = event.hold_id if isinstance(event, contract.HoldPlaced) else None
        acquired = None
        if isinstance(event, contract.HoldExecuted):
            hold_id = event.delivered_hold_id
            hold = self.holds[event.hold_id]
            if is_purchase(hold[2], hold[8] or hold[1], event.to_account, hold_id is not None):
                acquired = time.date()  # settlement of a trade: the same-day resale guard's date
        self.blocks.apply(sequence, moved, hold_id, acquired)


def _views(movements: list[contract.Movement], account: str, state: str) -> str:
    return orjson.dumps(
        [
            {
                "serial": format_block(m.batch_id, m.start, m.end),
                "batch_id": m.batch_id,
                "start": m.start,
                "end": m.end,
                "quantity": m.end - m.start + 1,
                "account": account,
                "state": state,
            }
            for m in movements
        ]
    ).decode()


@dataclass(frozen=True)
class RebuildReport:
    events: int
    before: dict[str, str]
    after: dict[str, str]

    @property
    def differing(self) -> list[str]:
        return [table for table in self.before if self.before[table] != self.after[table]]

    @property
    def ok(self) -> bool:
        return not self.differing


async def rebuild(store: EventStore, dry_run: bool = False) -> RebuildReport:
    """Replay the log into fresh projections; commit only if they equal the old ones (a
    difference is rolled back and reported, naming the tables). `dry_run` always rolls back."""
    tables = list(DIGEST_COLUMNS)
    async with store.pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            await replay_store.lock_for_rebuild(conn, tables)
            before = await projection_digests(conn)
            projection = Projection()
            events = 0
            async for page in replay_store.event_pages(conn):
                for row in page:
                    event = contract.catalog.decode(row["type"], orjson.loads(row["data"]))
                    projection.apply(row["sequence"], row["time"], event)
                    events += 1
            await replay_store.truncate(conn, tables)
            await _write(conn, projection)
            after = await projection_digests(conn)
            report = RebuildReport(events, before, after)
            if report.ok and not dry_run:
                await tx.commit()
            else:
                await tx.rollback()
            return report
        except BaseException:
            if not tx._done:
                await tx.rollback()
            raise


# A hold as `Projection.holds` keeps it: the stored columns, `placed_at` after `expires_at`.
_HOLD_COLUMNS = [*HOLDS.column_names[:7], "placed_at", *HOLDS.column_names[7:]]


async def _write(conn: asyncpg.Connection, p: Projection) -> None:
    tables: list[tuple[str, list[str], list[tuple[Any, ...]]]] = [
        (
            "accounts",
            ["id", "owner", "name", "kind", "program", "status"],
            [tuple(a) for a in p.accounts.values()],
        ),
        (
            "batches",
            ["batch_id", "program", "scope", "project", "vintage", "seq", "start_unit", "end_unit"],
            list(p.batches.values()),
        ),
        ("project_units", ["project", "last_unit"], list(p.project_units.items())),
        ("blocks", list(BLOCKS.column_names), [tuple(h) for h in p.blocks.holdings()]),
        # The live rows take these times from the database's clock (column defaults); the
        # rebuild takes them from the events' times.
        ("retirements", [*RETIREMENTS.column_names, "retired_at"], p.retirements),
        ("holds", _HOLD_COLUMNS, [tuple(h) for h in p.holds.values()]),
        (
            "imports",
            ["id", "batch_id", "source", "external_start", "external_end", "prefix", "units"],
            p.imports,
        ),
        ("movements", list(MOVEMENTS.column_names), p.movements),
        *p.derivatives.tables(),
    ]
    for table, columns, rows in tables:
        await replay_store.write_rows(conn, table, columns, rows)
