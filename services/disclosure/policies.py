"""Policy publication (政策发布): publish, amend (a new version; earlier ones stay shown),
withdraw (kept, marked). Disclosure's own event-sourced aggregate, stream `policy/<id>`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from libs.events.contract.disclosure import PolicyAmended, PolicyPublished, PolicyWithdrawn
from libs.events.store import ANY_VERSION, EventTransaction
from libs.problems import Conflict, NotFound
from services.disclosure import policies_store
from services.disclosure.rendering import to_html
from services.disclosure.schemas import (
    AmendPolicy,
    PolicyReceipt,
    PolicySummary,
    PolicyText,
    PolicyVersionView,
    PolicyView,
)


class UnknownPolicy(NotFound):
    slug, title = "unknown-policy", "Unknown policy"


class PolicyWithdrawnAlready(Conflict):
    slug, title = "policy-withdrawn", "The policy was withdrawn"


async def publish(tx: EventTransaction, body: PolicyText) -> PolicyReceipt:
    policy_id = await policies_store.next_policy_id(tx)
    event = PolicyPublished(policy_id=policy_id, version=1, **body.model_dump(mode="json"))
    await tx.append(f"policy/{policy_id}", 0, [event])
    await policies_store.insert_version(tx, event.model_dump(), datetime.now(UTC))
    return PolicyReceipt(id=policy_id, version=1)


async def amend(tx: EventTransaction, policy_id: str, body: AmendPolicy) -> PolicyReceipt:
    policy = await _open_policy(tx, policy_id)
    version = policy["version"] + 1
    event = PolicyAmended(policy_id=policy_id, version=version, **body.model_dump(mode="json"))
    await tx.append(f"policy/{policy_id}", ANY_VERSION, [event])
    await policies_store.insert_version(tx, event.model_dump(), datetime.now(UTC))
    return PolicyReceipt(id=policy_id, version=version)


async def withdraw(tx: EventTransaction, policy_id: str, reason: str) -> PolicyReceipt:
    policy = await _open_policy(tx, policy_id)
    event = PolicyWithdrawn(policy_id=policy_id, reason=reason)
    await tx.append(f"policy/{policy_id}", ANY_VERSION, [event])
    await policies_store.withdraw(tx, policy_id, reason)
    return PolicyReceipt(id=policy_id, version=policy["version"], withdrawn=True)


async def _open_policy(tx: EventTransaction, policy_id: str) -> dict[str, Any]:
    policy = await policies_store.lock_policy(tx, policy_id)
    if policy is None:
        raise UnknownPolicy(f"no policy {policy_id}")
    if policy["withdrawn"]:
        raise PolicyWithdrawnAlready(f"{policy_id} was withdrawn: {policy['withdrawn_reason']}")
    return policy


def summary(row: dict[str, Any]) -> PolicySummary:
    return PolicySummary(**row, id=row["policy_id"])


async def view(conn: policies_store.Conn, policy_id: str) -> PolicyView:
    current = await policies_store.current(conn, policy_id)
    if current is None:
        raise UnknownPolicy(f"no policy {policy_id}")
    versions = await policies_store.versions(conn, policy_id)
    return PolicyView(
        **summary(current).model_dump(),
        versions=[
            PolicyVersionView(
                **v, body_zh_html=to_html(v["body_zh"]), body_en_html=to_html(v["body_en"])
            )
            for v in versions
        ],
    )
