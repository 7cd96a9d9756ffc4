"""The disclosure service's settings (environment variables `TANHUI_…`)."""

from __future__ import annotations

from typing import ClassVar

from libs.servicekit.settings import ServiceSettings, database_url_field


class DisclosureSettings(ServiceSettings):
    service: ClassVar[str] = "disclosure"
    default_port: ClassVar[int] = 8004
    database_url: str = database_url_field("disclosure")
    # The portal's notice comment form hands comments to issuance's anonymous endpoint.
    issuance_url: str = "http://127.0.0.1:8002"
    # Reconciliation reads the registry's batch supply with a reader's (auditor's) token.
    registry_url: str = "http://127.0.0.1:8001"
    registry_token: str | None = None  # optional: without it, reconciliation shows one side
    # Supervision's audit trail asks every service's log for an entity's stream.
    matching_url: str = "http://127.0.0.1:8003"
    # How often the witness checks that the other services' logs only grow (0: never).
    witness_seconds: float = 60.0
    required_in_production: ClassVar[tuple[str, ...]] = (
        *ServiceSettings.required_in_production,
        "issuance_url",
        "registry_url",
        "matching_url",
    )
