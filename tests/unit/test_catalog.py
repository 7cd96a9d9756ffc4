"""Versioned event types: old versions in the log are upcast to the newest class."""

from __future__ import annotations

from typing import Any

import pytest

from libs.events.catalog import (
    EventCatalog,
    EventPayload,
    Prepared,
    PreparedPayloadMismatch,
    UnknownEventType,
)
from libs.events.contract.registry import CreditsTransferred

catalog = EventCatalog("test")


@catalog.event("ParcelMeasured", version=1)
class ParcelMeasuredV1(EventPayload):
    parcel: str
    area_mu: int  # v1 measured in mu (亩)


@catalog.upcaster("ParcelMeasured", from_version=1)
def _mu_to_hectares(data: dict[str, Any]) -> dict[str, Any]:
    # 1 mu = 1/15 ha; v2 keeps decimals as strings.
    return {"parcel": data["parcel"], "area_ha": str(round(data["area_mu"] / 15, 4))}


@catalog.event("ParcelMeasured", version=2)
class ParcelMeasured(EventPayload):
    parcel: str
    area_ha: str


def test_type_names_follow_the_contract() -> None:
    assert ParcelMeasured.event_type == "tanhui.test.ParcelMeasured.v2"
    assert catalog.types() == ["tanhui.test.ParcelMeasured.v1", "tanhui.test.ParcelMeasured.v2"]


def test_old_versions_are_upcast_to_the_newest_class() -> None:
    event = catalog.decode("tanhui.test.ParcelMeasured.v1", {"parcel": "P1", "area_mu": 30})
    assert event == ParcelMeasured(parcel="P1", area_ha="2.0")


def test_current_version_decodes_directly() -> None:
    event = catalog.decode("tanhui.test.ParcelMeasured.v2", {"parcel": "P1", "area_ha": "1.5"})
    assert isinstance(event, ParcelMeasured) and event.area_ha == "1.5"


def test_unknown_types_are_refused() -> None:
    with pytest.raises(UnknownEventType):
        catalog.decode("tanhui.test.Nope.v1", {})


def test_registering_an_older_version_after_a_newer_one_fails() -> None:
    with pytest.raises(ValueError, match="registered after"):

        @catalog.event("ParcelMeasured", version=1)
        class Again(EventPayload):
            parcel: str


def test_a_prepared_payload_is_checked_against_its_model_before_it_is_appended() -> None:
    movement = {
        "batch_id": "YRDPH-15-QP0007-2024-001",
        "start": 1,
        "end": 2,
        "from": {"account": "ACC-000001", "state": "available"},
        "to": {"account": "ACC-000002", "state": "available"},
    }
    good = {
        "transfer_id": "TRF-00000001",
        "from_account": "ACC-000001",
        "to_account": "ACC-000002",
        "quantity": 2,
        "movements": [movement],
    }
    assert Prepared(CreditsTransferred, good).to_data() == good
    for bad in (
        good | {"quantity": "2"},  # a coerced type
        good | {"extra": 1},  # a field the model does not have
        {k: v for k, v in good.items() if k != "to_account"},  # a missing field
        good | {"movements": [movement | {"to": {"account": "ACC-2", "state": "lost"}}]},
    ):
        with pytest.raises(PreparedPayloadMismatch):
            Prepared(CreditsTransferred, bad).to_data()
