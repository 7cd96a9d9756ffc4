"""Every service's AsyncAPI document (libs/events/asyncapi.py) says what its catalog appends:
each event's newest version, inside the envelope every event travels in, with every reference
resolving inside the document."""

from __future__ import annotations

from typing import Any

import pytest

from libs.events.asyncapi import document
from libs.events.contract import catalog_of
from libs.events.envelope import Envelope
from libs.events.kafka import SERVICES


def references(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in references(value)]
    if isinstance(node, list):
        return [r for value in node for r in references(value)]
    return []


def resolve(doc: dict[str, Any], reference: str) -> Any:
    assert reference.startswith("#/"), reference
    node: Any = doc
    for part in reference[2:].split("/"):
        node = node[part]
    return node


@pytest.mark.parametrize("service", SERVICES)
def test_each_event_is_a_message_of_the_services_topic(service: str) -> None:
    catalog = catalog_of(service)
    doc = document(catalog, f"tanhui.{service}", service)
    assert doc["asyncapi"] == "3.0.0"
    assert doc["channels"]["log"]["address"] == f"tanhui.{service}"
    messages = doc["components"]["messages"]
    assert sorted(messages) == sorted(cls.event_name for cls in catalog.payloads())
    for cls in catalog.payloads():
        envelope = messages[cls.event_name]["payload"]
        assert envelope["properties"]["type"] == {"const": cls.event_type}
        assert set(envelope["properties"]) == set(Envelope.model_fields)  # no drift
        data = resolve(doc, envelope["properties"]["data"]["$ref"])
        assert set(data["properties"]) == set(cls.model_fields)
    for reference in references(doc):
        resolve(doc, reference)  # a dangling reference raises KeyError
    operation = doc["operations"]["publishLog"]
    assert len(operation["messages"]) == len(messages) and operation["action"] == "send"
