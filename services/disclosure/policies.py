"""Policy publication (政策发布): publish, amend (a new version; earlier ones stay shown),
withdraw (kept, marked). Disclosure's own event-sourced aggregate, stream `policy/<id>`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from libs.events.contract.disclosure import (
    PolicyAmended,
    PolicyAttachmentAdded,
    PolicyPublished,
    PolicyWithdrawn,
)
from libs.events.store import ANY_VERSION, EventTransaction
from libs.problems import Conflict, InvalidInput, NotFound
from libs.servicekit.files import sha256_of
from services.disclosure import policies_store
from services.disclosure.policy_schemas import (
    AmendPolicy,
    PolicyAttachment,
    PolicyReceipt,
    PolicySummary,
    PolicyText,
    PolicyVersionView,
    PolicyView,
)
from services.disclosure.rendering import to_html


class UnknownPolicy(NotFound):
    slug, title = "unknown-policy", "Unknown policy"


class UnknownAttachment(NotFound):
    slug, title = "unknown-attachment", "Unknown attachment"


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


MAX_FILENAME = 200


class InvalidAttachment(InvalidInput):
    slug, title = "invalid-attachment", "The attachment is not valid"


async def attach(
    tx: EventTransaction, policy_id: str, filename: str, media_type: str, content: bytes
) -> PolicyAttachment:
    if not content:
        raise InvalidAttachment("the file is empty")
    if not filename or len(filename) > MAX_FILENAME or "/" in filename or "\\" in filename:
        raise InvalidAttachment("a file name of 1–200 characters without path separators")
    policy = await _open_policy(tx, policy_id)
    attachment = PolicyAttachment(
        id=await policies_store.next_attachment_id(tx),
        version=policy["version"],
        filename=filename,
        media_type=media_type or "application/octet-stream",
        size=len(content),
        sha256=sha256_of(content),
        attached_at=datetime.now(UTC),
    )
    event = PolicyAttachmentAdded(
        policy_id=policy_id,
        attachment_id=attachment.id,
        **attachment.model_dump(exclude={"id", "attached_at"}),
    )
    await tx.append(f"policy/{policy_id}", ANY_VERSION, [event])
    await policies_store.insert_attachment(
        tx, attachment.model_dump() | {"policy_id": policy_id}, content
    )
    return attachment


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
        attachments=[
            PolicyAttachment(**a) for a in await policies_store.attachments(conn, policy_id)
        ],
    )
