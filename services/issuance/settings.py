"""The issuance service's settings (environment variables `TANHUI_…`)."""

from __future__ import annotations

from typing import ClassVar

from libs.servicekit.settings import ServiceSettings, database_url_field


class IssuanceSettings(ServiceSettings):
    service: ClassVar[str] = "issuance"
    default_port: ClassVar[int] = 8002
    database_url: str = database_url_field("issuance")
    # Monitoring reports of 10,000 parcels and scanned reports are larger than 1 MiB.
    max_body_bytes: int = 33_554_432
    # Public notice (公示) length; fractional days allowed (tests use seconds).
    public_notice_days: float = 10.0
    # Anonymous notice comments per client address and minute.
    comment_rate_per_minute: int = 5
