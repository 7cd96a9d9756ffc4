"""The disclosure service as the platform's tools see it (entry point `tanhui.services`)."""

from __future__ import annotations

from libs.servicekit.entries import ServiceEntry
from services.disclosure import cli
from services.disclosure.settings import DisclosureSettings

ENTRY = ServiceEntry(
    settings=DisclosureSettings, commands=cli.install, commands_help="disclosure operator commands"
)
