"""The registry service's settings (environment variables `TANHUI_…`)."""

from __future__ import annotations

from typing import ClassVar

from libs.servicekit.settings import ServiceSettings, database_url_field


class RegistrySettings(ServiceSettings):
    service: ClassVar[str] = "registry"
    default_port: ClassVar[int] = 8001
    database_url: str = database_url_field("registry")
    hold_sweep_seconds: float = 5.0  # how often expired holds are released
