"""One pydantic-settings class per service, environment variables prefixed `TANHUI_`.

Shared variables (`TANHUI_KAFKA_BOOTSTRAP_SERVERS`, `TANHUI_JWKS_FILE`, …) are read by every
service; each service's database URL has its own variable (`TANHUI_REGISTRY_DATABASE_URL`, …).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TANHUI_", extra="ignore")

    service: ClassVar[str] = ""
    default_port: ClassVar[int] = 8000

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "postgresql://postgres@127.0.0.1:54329/postgres"
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("TANHUI_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"),
    )
    # Prepended to every topic name: lets test runs share one broker without colliding.
    topic_prefix: str = ""
    kafka_session_timeout_ms: int = 6000
    jwks_file: Path | None = None
    jwks_url: str | None = None
    jwt_issuer: str = "tanhui-dev"
    jwt_audience: str = "tanhui"
    max_body_bytes: int = 1_048_576
    db_pool_size: int = 10
    relay_enabled: bool = True
    consumers_enabled: bool = True
    log_level: str = "INFO"
    otel_exporter: Literal["none", "console"] = "none"

    def topic(self, service: str) -> str:
        return f"{self.topic_prefix}tanhui.{service}"

    @property
    def own_topic(self) -> str:
        return self.topic(self.service)


def _db_alias(service: str) -> AliasChoices:
    return AliasChoices(f"TANHUI_{service.upper()}_DATABASE_URL")


class RegistrySettings(ServiceSettings):
    service: ClassVar[str] = "registry"
    default_port: ClassVar[int] = 8001
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:54329/tanhui_registry",
        validation_alias=_db_alias("registry"),
    )
    hold_sweep_seconds: float = 5.0  # how often expired holds are released


class IssuanceSettings(ServiceSettings):
    service: ClassVar[str] = "issuance"
    default_port: ClassVar[int] = 8002
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:54329/tanhui_issuance",
        validation_alias=_db_alias("issuance"),
    )
    # Monitoring reports of 10,000 parcels and scanned reports are larger than 1 MiB.
    max_body_bytes: int = 33_554_432
    # Public notice (公示) length; fractional days allowed (tests use seconds).
    public_notice_days: float = 10.0
    # Anonymous notice comments per client address and minute.
    comment_rate_per_minute: int = 5


class MatchingSettings(ServiceSettings):
    service: ClassVar[str] = "matching"
    default_port: ClassVar[int] = 8003
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:54329/tanhui_matching",
        validation_alias=_db_alias("matching"),
    )


class DisclosureSettings(ServiceSettings):
    service: ClassVar[str] = "disclosure"
    default_port: ClassVar[int] = 8004
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:54329/tanhui_disclosure",
        validation_alias=_db_alias("disclosure"),
    )


SETTINGS_BY_SERVICE: dict[str, type[ServiceSettings]] = {
    cls.service: cls
    for cls in (RegistrySettings, IssuanceSettings, MatchingSettings, DisclosureSettings)
}
