"""Carbon points, labels and project pledges as the log implies them, for `rebuild`: from
their events alone, in the live tables' shape. Points go through the same `PointsLedger` the
live commands apply their changes to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from libs.events.catalog import EventPayload
from libs.events.contract import registry as contract
from libs.events.envelope import parse_time
from libs.events.flush_sql import Table
from services.registry import points_store
from services.registry.domain.points import Change, PointsLedger, Scheme


def _columns(table: Table) -> str:
    return ", ".join(table.column_names)


# The tables (their compared columns, in this order) — rebuild's digest and its writes.
DERIVATIVES_COLUMNS = {
    "points_schemes": _columns(points_store.SCHEMES),
    "points_backings": _columns(points_store.BACKINGS),
    "points_balances": _columns(points_store.BALANCES),
    "points_entries": _columns(points_store.ENTRIES),
    "project_pledges": "id, project, account, lender, lender_account, share_percent, quantity,"
    " pledged, registration_ref, loan_amount, expires_at, status",
    "labels": "code, retirement_id, owner, product, product_batch, functional_unit,"
    " units_covered, footprint_kg_per_unit, offset_kg_per_unit, claimed_kg, valid_from,"
    " valid_to, status, revoked_reason",
}


@dataclass
class DerivativesProjection:
    points: PointsLedger = field(default_factory=PointsLedger)
    backings: list[tuple[Any, ...]] = field(default_factory=list)
    entries: list[tuple[Any, ...]] = field(default_factory=list)
    labels: dict[str, list[Any]] = field(default_factory=dict)
    pledges: dict[str, list[Any]] = field(default_factory=dict)

    def apply(self, sequence: int, event: EventPayload) -> None:
        if isinstance(event, contract.PointsSchemeCreated):
            scheme = Scheme(event.scheme_id, event.name, event.operator, event.backed, 0, 0, 0)
            self.points.create(scheme)
        elif isinstance(event, contract.PointsBackingAdded):
            self.backings.append((event.retirement_id, event.scheme_id, event.points))
            self.points.add_backing(event.scheme_id, event.retirement_id, event.points)
        elif isinstance(event, contract.PointsMinted):
            deltas = {event.holder: event.points}
            self._change(
                sequence, Change(event.scheme_id, "mint", event.mint_id, deltas, event.points)
            )
        elif isinstance(event, contract.PointsTransferred):
            deltas = {event.from_holder: -event.points, event.to_holder: event.points}
            change = Change(event.scheme_id, "transfer", event.transfer_id, deltas, event.points)
            self._change(sequence, change)
        elif isinstance(event, contract.ProjectPledged):
            self.pledges[event.pledge_id] = [
                event.pledge_id, event.project, event.account, event.lender,
                event.lender_account, event.share_percent, event.quantity, 0,
                event.registration_ref, event.loan_amount, parse_time(event.expires_at), "active",
            ]  # fmt: skip
        elif isinstance(event, contract.ProjectPledgeReleased | contract.ProjectPledgeEnforced):
            released = isinstance(event, contract.ProjectPledgeReleased)
            self.pledges[event.pledge_id][11] = "released" if released else "enforced"
        elif isinstance(event, contract.HoldPlaced) and event.reference in self.pledges:
            if event.purpose == "pledge":  # an issuance honouring the pledge
                self.pledges[event.reference][7] += event.quantity
        elif isinstance(event, contract.LabelIssued):
            self.labels[event.code] = [
                event.code, event.retirement_id, event.owner, event.product, event.product_batch,
                event.functional_unit, event.units_covered, Decimal(event.footprint_kg_per_unit),
                Decimal(event.offset_kg_per_unit), Decimal(event.claimed_kg),
                date.fromisoformat(event.valid_from), date.fromisoformat(event.valid_to),
                "active", None,
            ]  # fmt: skip
        elif isinstance(event, contract.LabelRevoked):
            self.labels[event.code][12:14] = ["revoked", event.reason]
        elif isinstance(event, contract.PointsRedeemed):
            deltas = {event.holder: -event.points}
            change = Change(
                event.scheme_id, "redemption", event.redemption_id, deltas, event.points
            )
            self._change(sequence, change)

    def _change(self, sequence: int, change: Change) -> None:
        self.points.apply(change)
        self.entries.extend(points_store.entry_rows(sequence, change))

    def tables(self) -> list[tuple[str, list[str], list[tuple[Any, ...]]]]:
        """(table, columns, rows) to write, in DERIVATIVES_COLUMNS's order."""
        rows = {
            "points_schemes": [
                points_store.scheme_row(s) for s in self.points.schemes.values() if s
            ],
            "points_backings": self.backings,
            "points_balances": [(*key, p) for key, p in self.points.balances.items()],
            "points_entries": self.entries,
            "labels": [tuple(label) for label in self.labels.values()],
            "project_pledges": [tuple(pledge) for pledge in self.pledges.values()],
        }
        return [
            (table, [c.strip() for c in columns.split(",")], rows[table])
            for table, columns in DERIVATIVES_COLUMNS.items()
        ]
