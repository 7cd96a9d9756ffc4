"""Payload classes proven canonical-safe really canonicalise like the RFC 8785 reference."""

from __future__ import annotations

from typing import Any

import orjson
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from libs.events.catalog import EventCatalog, EventPayload, Quantity
from libs.events.contract import registry
from libs.events.jcs_safety import schema_is_jcs_safe

catalog = EventCatalog("safety")


@catalog.event("WithFloat")
class WithFloat(EventPayload):
    ratio: float


@catalog.event("WithUnboundedInt")
class WithUnboundedInt(EventPayload):
    n: int


@catalog.event("WithFreeDict")
class WithFreeDict(EventPayload):
    extra: dict[str, Any]


@catalog.event("Bounded")
class Bounded(EventPayload):
    n: Quantity
    label: str | None = None


def test_the_proof_accepts_closed_bounded_shapes_and_refuses_the_rest() -> None:
    assert Bounded.jcs_safe
    assert not WithFloat.jcs_safe
    assert not WithUnboundedInt.jcs_safe
    assert not WithFreeDict.jcs_safe
    assert schema_is_jcs_safe({"type": "integer", "minimum": 0, "maximum": 2**60}) is False


def test_every_registry_event_is_proven_safe() -> None:
    classes = [
        c
        for c in vars(registry).values()
        if isinstance(c, type) and issubclass(c, EventPayload) and c.event_type
    ]
    assert classes
    assert all(c.jcs_safe for c in classes), [c.__name__ for c in classes if not c.jcs_safe]


def envelope_for(payload: BaseModel) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": "x",
        "sequence": 7,
        "prevhash": "0" * 64,
        "correlationid": None,
        "data": payload.model_dump(mode="json", by_alias=True),
    }


@settings(max_examples=300)
@given(
    st.builds(
        registry.CreditsTransferred, movements=st.lists(st.builds(registry.Movement), max_size=4)
    )
)
def test_proven_safe_transfers_match_the_reference(event: registry.CreditsTransferred) -> None:
    body = envelope_for(event)
    assert orjson.dumps(body, option=orjson.OPT_SORT_KEYS) == rfc8785.dumps(body)


@settings(max_examples=200)
@given(
    st.builds(registry.CreditsIssued, movements=st.lists(st.builds(registry.Movement), max_size=3))
)
def test_proven_safe_issuances_match_the_reference(event: registry.CreditsIssued) -> None:
    body = envelope_for(event)
    assert orjson.dumps(body, option=orjson.OPT_SORT_KEYS) == rfc8785.dumps(body)
