"""How the platform's tools find its services without importing them.

Each service declares a `ServiceEntry` (its settings class and any operator commands) under
the `tanhui.services` entry-point group in `pyproject.toml`. The `tanhui` CLI, the local stack
and the tests look the services up here, so that `libs/` depends on no service.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points

from libs.events.kafka import SERVICES
from libs.servicekit.settings import ServiceSettings

ENTRY_POINT_GROUP = "tanhui.services"

# Adds a service's operator subcommands to its `tanhui <service> …` parser; returns the
# function that runs the parsed command (exit status).
CommandsInstaller = Callable[[argparse.ArgumentParser], Callable[[argparse.Namespace], int]]


@dataclass(frozen=True)
class ServiceEntry:
    settings: type[ServiceSettings]
    commands: CommandsInstaller | None = None
    commands_help: str = ""

    @property
    def name(self) -> str:
        return self.settings.service


@cache
def service_entries() -> dict[str, ServiceEntry]:
    """Every service's entry, in the platform's order (docs/events.md)."""
    found: dict[str, ServiceEntry] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        entry = point.load()
        if not isinstance(entry, ServiceEntry) or entry.name != point.name:
            raise TypeError(f"entry point {point.name} = {point.value} is not its ServiceEntry")
        found[point.name] = entry
    missing = [s for s in SERVICES if s not in found]
    if missing:
        raise RuntimeError(
            f"services {missing} are not installed as {ENTRY_POINT_GROUP} entry points:"
            " run `make` (pip install -e .) again"
        )
    return {s: found[s] for s in SERVICES}
