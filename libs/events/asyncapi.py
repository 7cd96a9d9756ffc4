"""A service's event contract as an AsyncAPI 3.0 document (`GET /asyncapi.json`).

One channel, the service's topic; one message per event, in its newest version: the CloudEvents
envelope of docs/events.md with the event's payload schema as `data` (from the catalog's own
pydantic models, so the document cannot drift from what is appended). The Kafka message key is
the envelope's `subject` (the stream), and the W3C `traceparent` travels as a header. Older
versions still in a log are upcast by readers (docs/events.md).
"""

from __future__ import annotations

from typing import Any

from libs.events.catalog import EventCatalog, EventPayload

ASYNCAPI_VERSION = "3.0.0"
SCHEMAS = "#/components/schemas/"
TEXT = {"type": "string"}
NULLABLE_TEXT = {"type": ["string", "null"]}
HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


def document(catalog: EventCatalog, topic: str, title: str) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    messages = {cls.event_name: _message(cls, schemas) for cls in catalog.payloads()}
    references = {name: {"$ref": f"#/components/messages/{name}"} for name in messages}
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": title,
            "version": "1.0.0",
            "description": "The service's hash-chained event log as its relay publishes it, one"
            " CloudEvents envelope per Kafka message (docs/events.md).",
        },
        "defaultContentType": "application/json",
        "channels": {"log": {"address": topic, "messages": references}},
        "operations": {
            "publishLog": {
                "action": "send",
                "channel": {"$ref": "#/channels/log"},
                "messages": [{"$ref": f"#/channels/log/messages/{name}"} for name in messages],
            }
        },
        "components": {"messages": messages, "schemas": schemas},
    }


def _message(cls: type[EventPayload], schemas: dict[str, Any]) -> dict[str, Any]:
    payload = cls.model_json_schema(mode="serialization", ref_template=SCHEMAS + "{model}")
    for name, schema in payload.pop("$defs", {}).items():
        if schemas.setdefault(name, schema) != schema:
            raise ValueError(f"two payload schemas named {name} differ")
    schemas[cls.event_name] = payload
    summary = (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    message: dict[str, Any] = {
        "name": cls.event_name,
        "title": cls.event_type,
        "contentType": "application/json",
        "headers": {"type": "object", "properties": {"traceparent": TEXT}},
        "payload": _envelope(cls.event_type, SCHEMAS + cls.event_name),
        "bindings": {"kafka": {"key": {"type": "string", "description": "the stream (subject)"}}},
    }
    if summary:
        message["summary"] = summary
    return message


def _envelope(event_type: str, data: str) -> dict[str, Any]:
    properties = {
        "specversion": {"const": "1.0"},
        "id": TEXT,
        "source": TEXT,
        "type": {"const": event_type},
        "subject": TEXT,
        "time": {"type": "string", "format": "date-time"},
        "sequence": {"type": "integer", "minimum": 1},
        "streamversion": {"type": "integer", "minimum": 1},
        "actor": TEXT,
        "correlationid": NULLABLE_TEXT,
        "causationid": NULLABLE_TEXT,
        "traceparent": NULLABLE_TEXT,
        "prevhash": HASH,
        "hash": HASH,
        "data": {"$ref": data},
    }
    required = [
        name for name in properties if name not in ("correlationid", "causationid", "traceparent")
    ]
    return {"type": "object", "properties": properties, "required": required}
