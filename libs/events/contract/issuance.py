"""Events of the issuance service (topic `tanhui.issuance`, source `tanhui/issuance`)."""

from __future__ import annotations

from typing import Literal

from libs.events.catalog import EventCatalog, EventPayload, Quantity

catalog = EventCatalog("issuance")


@catalog.event("IssuanceApproved", version=1)
class IssuanceApproved(EventPayload):
    """A registry administrator approved a verified monitoring report: the registry issues it.

    `quantity` is the whole tonnes of the verified net (floored), buffer included; `buffer_quantity`
    of it goes to the program's buffer account. `batch_id`, when given, is the id to issue under
    (so that a redelivered approval can never issue twice)."""

    approval_id: str
    program: Literal["YRDPH", "CCER"]
    project: str
    vintage: Quantity
    quantity: Quantity
    buffer_quantity: Quantity = 0
    account: str
    monitoring_period: str
    batch_id: str | None = None
