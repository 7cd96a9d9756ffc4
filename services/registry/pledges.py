"""Pledges over a project's future issuances (质押): a lender's claim on what the registry will
issue to a developer's account for a project.

Each issuance honours the binding pledges in its own transaction (`on_issuance`): the pledged
share of the units it issued into the account goes straight into a pledge hold for the lender
(reference: the pledge's id; the loan's terms on the hold; expiring with the pledge), and, once
the pledge is enforced, on to the lender's account. Held units can be neither transferred,
retired, escrowed nor exported: the hold is what encumbers them. The lender releases the pledge
(later issuances are free) or enforces it (what is held goes to the lender now).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from libs.events.contract.registry import (
    ProjectPledged,
    ProjectPledgeEnforced,
    ProjectPledgeReleased,
)
from libs.events.store import ANY_VERSION, EventTransaction, Queryable
from libs.problems import Conflict, NotFound
from libs.servicekit.auth import Principal
from services.registry import holds, pledges_store, store
from services.registry.access import check_owned
from services.registry.finance_schemas import PledgeProject, ProjectPledgeView
from services.registry.schemas import Criteria, ExecuteHold, PlaceHold, PledgeTermsIn

# The registry acting on its own rules (an issuance honouring a pledge).
REGISTRY = Principal(subject="registry", org="REGISTRY", roles=frozenset({"registry_admin"}))


class UnknownPledge(NotFound):
    slug, title = "unknown-pledge", "Unknown project pledge"


class PledgeClosed(Conflict):
    slug, title = "pledge-closed", "The pledge is no longer active"


class LenderAccountMismatch(Conflict):
    slug, title = "lender-account-mismatch", "The lender's account belongs to another organisation"


def stream(pledge_id: str) -> str:
    return f"project-pledge/{pledge_id}"


def view(row: dict[str, Any]) -> ProjectPledgeView:
    return ProjectPledgeView(**row)


async def pledge(
    tx: EventTransaction, principal: Principal, body: PledgeProject
) -> ProjectPledgeView:
    check_owned(principal, body.account, await store.get_account(tx, body.account))
    lender_account = await store.get_account(tx, body.lender_account)
    if lender_account is None or lender_account.owner != body.lender:
        raise LenderAccountMismatch(f"{body.lender_account} is not {body.lender}'s")
    pledge_id = await pledges_store.next_id(tx)
    event = ProjectPledged(pledge_id=pledge_id, **body.model_dump(mode="json"))
    await tx.append(stream(pledge_id), 0, [event])
    row = body.model_dump() | {"id": pledge_id, "pledged": 0, "status": "active"}
    await pledges_store.insert(tx, row)
    return view(row)


async def readable(conn: Queryable, principal: Principal, pledge_id: str) -> ProjectPledgeView:
    """The pledge, for its lender, the pledging account's owner and supervisors (404 to
    anyone else, as for an unknown id)."""
    row = await pledges_store.get(conn, pledge_id)
    account = await store.get_account(conn, row["account"]) if row else None
    parties = {row["lender"], account.owner if account else None} if row else set()
    if row is None or not (
        principal.org in parties or principal.has_any("registry_admin", "auditor", "regulator")
    ):
        raise UnknownPledge()
    return view(row)


async def _lenders(tx: EventTransaction, principal: Principal, pledge_id: str) -> dict[str, Any]:
    row = await pledges_store.get(tx, pledge_id, for_update=True)
    if row is None or not (principal.has_any("registry_admin") or principal.org == row["lender"]):
        raise UnknownPledge()
    if row["status"] != "active":
        raise PledgeClosed(f"{pledge_id} is {row['status']}")
    return row


async def release(tx: EventTransaction, principal: Principal, pledge_id: str) -> ProjectPledgeView:
    row = await _lenders(tx, principal, pledge_id)
    await tx.append(stream(pledge_id), ANY_VERSION, [ProjectPledgeReleased(pledge_id=pledge_id)])
    await pledges_store.set_status(tx, pledge_id, "released")
    return view(row | {"status": "released"})


async def enforce(tx: EventTransaction, principal: Principal, pledge_id: str) -> ProjectPledgeView:
    row = await _lenders(tx, principal, pledge_id)
    await tx.append(stream(pledge_id), ANY_VERSION, [ProjectPledgeEnforced(pledge_id=pledge_id)])
    for hold_id in await pledges_store.active_holds(tx, pledge_id):
        await holds.execute(tx, REGISTRY, hold_id, ExecuteHold(to_account=row["lender_account"]))
    await pledges_store.set_status(tx, pledge_id, "enforced")
    return view(row | {"status": "enforced"})


async def on_issuance(
    tx: EventTransaction, project: str, account: str, batch_id: str, issued: int
) -> None:
    """Honour the binding pledges of `project` on the `issued` units of `batch_id` just issued
    into `account` (the issuance's transaction)."""
    left = issued
    for row in await pledges_store.binding(tx, project, account, datetime.now(UTC)):
        share = issued * row["share_percent"] // 100 if row["share_percent"] else issued
        if row["quantity"] is not None:
            share = min(share, row["quantity"] - row["pledged"])
        share = min(share, left)
        if share <= 0:
            continue
        placed = await holds.place_hold(tx, REGISTRY, _pledge_hold(row, account, batch_id, share))
        await pledges_store.add_pledged(tx, row["id"], share)
        left -= share
        if row["status"] == "enforced":
            await holds.execute(
                tx, REGISTRY, placed.id, ExecuteHold(to_account=row["lender_account"])
            )


def _pledge_hold(row: dict[str, Any], account: str, batch_id: str, share: int) -> PlaceHold:
    return PlaceHold(
        account=account,
        purpose="pledge",
        holder=row["lender"],
        quantity=share,
        criteria=Criteria(batch_id=batch_id),
        reference=row["id"],
        expires_at=row["expires_at"],
        pledge=PledgeTermsIn(
            registration_ref=row["registration_ref"],
            loan_amount=row["loan_amount"],
            matures_on=row["expires_at"].date(),
        ),
    )
