"""The matching service's settings (environment variables `TANHUI_…`)."""

from __future__ import annotations

from typing import ClassVar

from libs.servicekit.settings import ServiceSettings, database_url_field


class MatchingSettings(ServiceSettings):
    service: ClassVar[str] = "matching"
    default_port: ClassVar[int] = 8003
    database_url: str = database_url_field("matching")
