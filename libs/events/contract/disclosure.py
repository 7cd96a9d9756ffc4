"""Events of the disclosure service (topic `tanhui.disclosure`, source `tanhui/disclosure`).

Stream `policy/<id>`: policy publication (政策发布). Every version's full text is in the log —
an amendment repeats the whole policy as amended — so any version can be shown as published.
"""

from __future__ import annotations

from typing import Literal

from libs.events.catalog import EventCatalog, EventPayload, Quantity

catalog = EventCatalog("disclosure")

PolicyCategory = Literal["regulation", "methodology", "notice", "market_rule"]


@catalog.event("PolicyPublished", version=1)
class PolicyPublished(EventPayload):
    policy_id: str
    version: int
    title_zh: str
    title_en: str
    body_zh: str  # Markdown
    body_en: str
    category: PolicyCategory
    issuer: str
    document_number: str  # 文号
    issued_on: str
    effective_on: str


@catalog.event("PolicyAmended", version=1)
class PolicyAmended(PolicyPublished):
    """A new version of the policy, whole; the earlier versions stay published as they were."""

    note: str | None = None


@catalog.event("PolicyWithdrawn", version=1)
class PolicyWithdrawn(EventPayload):
    policy_id: str
    reason: str


@catalog.event("PolicyAttachmentAdded", version=1)
class PolicyAttachmentAdded(EventPayload):
    """A file attached to the policy (while `version` was current). The bytes stay in
    disclosure's store; the log keeps their SHA-256, so anyone can check a download."""

    policy_id: str
    attachment_id: str
    version: Quantity
    filename: str
    media_type: str
    size: Quantity
    sha256: str
