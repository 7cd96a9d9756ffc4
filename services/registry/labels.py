"""Carbon labels (碳标签): issue a label backed by one's own `carbon_label` retirement, revoke
it. The retirement's row is locked while its labels' claims are added up, so two labels issued
at once never claim more than its tonnes."""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal
from typing import Any

from libs.events.contract.registry import LabelIssued, LabelRevoked
from libs.events.store import ANY_VERSION, EventTransaction
from libs.servicekit.auth import Principal
from services.registry import labels_store
from services.registry.domain.labels import (
    LabelRevokedAlready,
    UnknownLabel,
    check_backing,
    check_claim,
    claim_kg,
)
from services.registry.finance_schemas import IssueLabel, LabelView
from services.registry.points import UnknownRetirement


def stream(code: str) -> str:
    return f"label/{code}"


def new_code() -> str:
    """Unguessable (72 random bits), short enough for a QR code and a phone's screen."""
    return f"CL-{secrets.token_urlsafe(9)}"


def view(row: dict[str, Any]) -> LabelView:
    decimals = ("footprint_kg_per_unit", "offset_kg_per_unit", "claimed_kg")
    return LabelView(**(row | {k: _plain(row[k]) for k in decimals}))


def _plain(value: Decimal | str) -> str:
    """A kilogram figure as written: no exponent, no trailing zeros."""
    return format(Decimal(value).normalize(), "f")


async def issue(tx: EventTransaction, principal: Principal, body: IssueLabel) -> LabelView:
    retirement = await labels_store.lock_retirement(tx, body.retirement_id)
    if retirement is None:
        raise UnknownRetirement(f"no retirement {body.retirement_id}")
    check_backing(retirement["purpose"], retirement["owner"], principal.org)
    claim = claim_kg(body.units_covered, body.offset_kg_per_unit)
    check_claim(
        claim, retirement["quantity"], await labels_store.claimed_kg(tx, body.retirement_id)
    )
    event = LabelIssued(
        code=new_code(),
        owner=retirement["owner"],
        claimed_kg=_plain(claim),
        **body.model_dump(mode="json", exclude={"footprint_kg_per_unit", "offset_kg_per_unit"}),
        footprint_kg_per_unit=_plain(body.footprint_kg_per_unit),
        offset_kg_per_unit=_plain(body.offset_kg_per_unit),
    )
    await tx.append(stream(event.code), 0, [event])
    row = _row(event)
    await labels_store.insert_label(tx, row)
    return view(row)


def _row(e: LabelIssued) -> dict[str, Any]:
    return e.model_dump() | {
        "footprint_kg_per_unit": Decimal(e.footprint_kg_per_unit),
        "offset_kg_per_unit": Decimal(e.offset_kg_per_unit),
        "claimed_kg": Decimal(e.claimed_kg),
        "valid_from": date.fromisoformat(e.valid_from),
        "valid_to": date.fromisoformat(e.valid_to),
        "status": "active",
        "revoked_reason": None,
    }


async def revoke(tx: EventTransaction, principal: Principal, code: str, reason: str) -> LabelView:
    label = await labels_store.get_label(tx, code, for_update=True)
    if label is None or not (
        principal.has_any("registry_admin") or principal.org == label["owner"]
    ):
        raise UnknownLabel()
    if label["status"] == "revoked":
        raise LabelRevokedAlready(f"{code} was revoked: {label['revoked_reason']}")
    event = LabelRevoked(code=code, reason=reason, by=principal.actor)
    await tx.append(stream(code), ANY_VERSION, [event])
    await labels_store.revoke(tx, code, reason)
    return view(label | {"status": "revoked", "revoked_reason": reason})
