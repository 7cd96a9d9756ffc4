"""The matching service as the platform's tools see it (entry point `tanhui.services`)."""

from __future__ import annotations

from libs.servicekit.entries import ServiceEntry
from services.matching import cli
from services.matching.settings import MatchingSettings

ENTRY = ServiceEntry(
    settings=MatchingSettings, commands=cli.install, commands_help="matching operator commands"
)
