"""The matching service's settings (environment variables `TANHUI_…`)."""

from __future__ import annotations

from typing import ClassVar

from libs.servicekit.settings import ServiceSettings, database_url_field


class MatchingSettings(ServiceSettings):
    service: ClassVar[str] = "matching"
    default_port: ClassVar[int] = 8003
    database_url: str = database_url_field("matching")
    registry_url: str = "http://127.0.0.1:8001"
    settlement_url: str = "http://127.0.0.1:8005"  # the exchange's settlement system
    # The market's organisation: the holder of every escrow, and the identity (token) under
    # which matching executes and releases them at the registry. `tanhui run` issues a
    # development token; production configures one from the identity provider.
    market_org: str = "TANHUI-MARKET"
    market_token: str | None = None
    upstream_timeout_seconds: float = 5.0
    settlement_retry_seconds: float = 1.0
    # A leg noted as pending this long without its listing, order or trade recorded was
    # abandoned (no request lasts as long: upstream calls time out after seconds).
    abandoned_leg_seconds: float = 120.0
    required_in_production: ClassVar[tuple[str, ...]] = (
        *ServiceSettings.required_in_production,
        "registry_url",
        "settlement_url",
        "market_token",
    )
