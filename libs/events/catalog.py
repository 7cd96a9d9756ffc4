"""Typed, versioned event catalog with upcasting.

An event type is `tanhui.<service>.<Name>.v<N>`. Payload classes are pydantic models declared
with `@catalog.event("Name", version=N)`. When a payload changes shape, the new class gets the
next version and an upcaster turns the previous version's data into it, so a consumer reading
an old log always receives the newest class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from libs.events.jcs_safety import schema_is_jcs_safe

# Integers in events: bounded so that their canonical JSON is exact (RFC 8785 numbers are
# IEEE doubles). Units and quantities are far below the bound; sequences too.
SafeInt = Annotated[int, Field(ge=-(2**53 - 1), le=2**53 - 1)]
Quantity = Annotated[int, Field(ge=0, le=10**12)]

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class EventPayload(BaseModel):
    """Base of every event payload. Quantities are ints; decimals travel as strings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str] = ""
    event_name: ClassVar[str] = ""
    event_version: ClassVar[int] = 0
    # Proven at registration from the JSON Schema: data needs no per-event subset check.
    jcs_safe: ClassVar[bool] = False

    def to_data(self) -> dict[str, Any]:
        # The serializer directly: model_dump's keyword handling costs a third more per event.
        data: dict[str, Any] = self.__pydantic_serializer__.to_python(
            self, mode="json", by_alias=True
        )
        return data


class PreparedPayloadMismatch(AssertionError):
    """A `Prepared` payload's data is not valid for its model (a programming error)."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """A payload built directly as the JSON-ready data its model would write, for hot paths
    where building and dumping a model per event costs more than the command itself (a bulk
    request's 10,000 transfers). Consumers decode it with the model like any other event.

    Always checked before it enters the permanent log: its data is validated strictly, as the
    JSON it becomes, against its model (no extra or missing fields, no coerced types). Measured:
    6–8 µs per transfer event, ~0.12 s of the service's CPU per 10,000-transfer bulk request
    (`bench/RESULTS.md`); building and dumping the models instead costs ~12 µs per event."""

    model: type[EventPayload]
    data: dict[str, Any]

    @property
    def event_type(self) -> str:
        return self.model.event_type

    @property
    def jcs_safe(self) -> bool:
        return self.model.jcs_safe

    def to_data(self) -> dict[str, Any]:
        try:
            self.model.__pydantic_validator__.validate_json(orjson.dumps(self.data), strict=True)
        except (ValidationError, orjson.JSONEncodeError) as exc:
            raise PreparedPayloadMismatch(f"{self.model.__name__}: {exc}") from exc
        return self.data


Payload = EventPayload | Prepared  # what the event store appends

P = TypeVar("P", bound=type[EventPayload])


class UnknownEventType(Exception):
    pass


@dataclass(frozen=True)
class _Entry:
    name: str
    version: int
    cls: type[EventPayload] | None


class EventCatalog:
    def __init__(self, service: str) -> None:
        self.service = service
        self._latest: dict[str, type[EventPayload]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        self._known: dict[str, _Entry] = {}

    def type_name(self, name: str, version: int) -> str:
        return f"tanhui.{self.service}.{name}.v{version}"

    def event(self, name: str, version: int = 1) -> Callable[[P], P]:
        def register(cls: P) -> P:
            cls.event_name = name
            cls.event_version = version
            cls.event_type = self.type_name(name, version)
            cls.jcs_safe = schema_is_jcs_safe(cls.model_json_schema(mode="serialization"))
            current = self._latest.get(name)
            if current is not None and current.event_version >= version:
                raise ValueError(f"{name} v{version} registered after v{current.event_version}")
            self._latest[name] = cls
            self._known[cls.event_type] = _Entry(name, version, cls)
            return cls

        return register

    def upcaster(self, name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register a function turning `from_version` data into `from_version + 1` data."""

        def register(fn: Upcaster) -> Upcaster:
            self._upcasters[(name, from_version)] = fn
            old_type = self.type_name(name, from_version)
            self._known.setdefault(old_type, _Entry(name, from_version, None))
            return fn

        return register

    def decode(self, event_type: str, data: dict[str, Any]) -> EventPayload:
        """Parse stored data of any registered version into the newest payload class."""
        entry = self._known.get(event_type)
        if entry is None:
            raise UnknownEventType(event_type)
        latest = self._latest[entry.name]
        version = entry.version
        while version < latest.event_version:
            step = self._upcasters.get((entry.name, version))
            if step is None:
                raise UnknownEventType(f"no upcaster for {entry.name} v{version}")
            data = step(data)
            version += 1
        return latest.model_validate(data)

    def knows(self, event_type: str) -> bool:
        return event_type in self._known

    def types(self) -> list[str]:
        return sorted(self._known)

    def payloads(self) -> list[type[EventPayload]]:
        """The newest payload class of every event, by name (what a writer appends today)."""
        return [self._latest[name] for name in sorted(self._latest)]

    def types_of(self, *payloads: type[EventPayload]) -> frozenset[str]:
        """Every registered type string (all versions) of these events: to skip the others
        by their type, before decoding."""
        names = {payload.event_name for payload in payloads}
        return frozenset(t for t, entry in self._known.items() if entry.name in names)
