"""What every service's settings share; each service subclasses it in its own `settings.py`.

Environment variables are prefixed `TANHUI_`. Shared ones (`TANHUI_KAFKA_BOOTSTRAP_SERVERS`,
`TANHUI_JWKS_FILE`, …) are read by every service; each service's database URL has its own
variable (`TANHUI_REGISTRY_DATABASE_URL`, …: see `database_url_field`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotConfiguredForProduction(Exception):
    """A production service would run on a setting meant for a developer's machine."""


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TANHUI_", extra="ignore")

    service: ClassVar[str] = ""
    default_port: ClassVar[int] = 8000
    # What a production deployment must set itself: the defaults point at a developer's machine
    # (localhost, the development token issuer) or leave a secret out. A service started with
    # `TANHUI_ENV=production` and any of these unset refuses to start, naming the variables
    # (`check_production`; `tanhui migrate` needs the database URL only).
    required_in_production: ClassVar[tuple[str, ...]] = (
        "database_url",
        "kafka_bootstrap_servers",
        "jwt_issuer",
    )

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
    # The Ed25519 key (PKCS#8 PEM) signing the log's checkpoints; development makes one there.
    ledger_key_file: Path | None = None

    def check_production(self) -> None:
        """Refuse to run in production on a development default (`required_in_production`)."""
        if self.env == "production" and (gaps := self.production_gaps()):
            raise NotConfiguredForProduction(
                f"TANHUI_ENV=production, but these are not set: {', '.join(gaps)}"
                " (their defaults are for development)"
            )

    def production_gaps(self) -> list[str]:
        """The environment variables a production deployment has left unset."""
        gaps = [
            _variable(name, type(self).model_fields[name].validation_alias)
            for name in self.required_in_production
            if name not in self.model_fields_set
        ]
        if self.jwks_url is None and self.jwks_file is None:  # no key would ever verify a token
            gaps.append("TANHUI_JWKS_URL (or TANHUI_JWKS_FILE)")
        if self.ledger_key_file is None:  # checkpoints signed by a key gone at the next start
            gaps.append("TANHUI_LEDGER_KEY_FILE")
        return gaps

    def topic(self, service: str) -> str:
        return f"{self.topic_prefix}tanhui.{service}"

    @property
    def own_topic(self) -> str:
        return self.topic(self.service)


def _variable(name: str, alias: Any) -> str:
    """The environment variable a setting is read from: its first alias, or TANHUI_<NAME>."""
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    return f"TANHUI_{name.upper()}"


def database_url_field(service: str) -> Any:
    """The `database_url` field of `service`'s settings: its own variable and database."""
    return Field(
        default=f"postgresql://postgres@127.0.0.1:54329/tanhui_{service}",
        validation_alias=AliasChoices(f"TANHUI_{service.upper()}_DATABASE_URL"),
    )
