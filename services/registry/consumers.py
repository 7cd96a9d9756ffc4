"""Kafka consumers of the registry: `IssuanceApproved` from `tanhui.issuance` issues credits
through the same command as `POST /v1/issuances`."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from libs.events.consumer import EventConsumer
from libs.events.contract import issuance
from libs.events.envelope import Envelope
from libs.events.store import EventTransaction
from libs.problems import Problem
from libs.servicekit.runtime import Runtime
from services.registry import service
from services.registry.schemas import IssueCredits

log = logging.getLogger(__name__)


async def on_issuance_event(tx: EventTransaction, envelope: Envelope) -> None:
    if not issuance.catalog.knows(envelope.type):
        return
    event = issuance.catalog.decode(envelope.type, envelope.data)
    if not isinstance(event, issuance.IssuanceApproved):
        return
    body = IssueCredits(
        batch_id=event.batch_id,
        program=event.program,
        project=event.project,
        vintage=event.vintage,
        quantity=event.quantity,
        account=event.account,
        buffer_quantity=event.buffer_quantity,
    )
    try:
        await service.issue(tx, body)
    except Problem as problem:
        # A refusal (unknown or frozen account, batch already issued) cannot succeed on retry:
        # raise so that the consumer dead-letters it with the reason for an administrator.
        log.warning("approval %s refused: %s", event.approval_id, problem)
        raise


def consumers(runtime: Runtime) -> Sequence[EventConsumer]:
    return [runtime.consumer("issuance", "issuance", on_issuance_event)]
