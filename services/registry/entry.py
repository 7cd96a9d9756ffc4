"""The registry service as the platform's tools see it (entry point `tanhui.services`)."""

from __future__ import annotations

from libs.servicekit.entries import ServiceEntry
from services.registry import cli
from services.registry.settings import RegistrySettings

ENTRY = ServiceEntry(
    settings=RegistrySettings, commands=cli.install, commands_help="registry operator commands"
)
