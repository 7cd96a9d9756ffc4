"""A service started with `TANHUI_ENV=production` refuses development defaults (localhost
addresses, the development token issuer, missing secrets). That the Kubernetes manifests give
every service what production requires: tests/unit/test_k8s_manifests.py."""

from __future__ import annotations

import pytest

from libs.servicekit.entries import service_entries
from libs.servicekit.settings import NotConfiguredForProduction


def test_production_names_every_setting_left_at_its_development_default(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("TANHUI_ENV", "production")
    settings = service_entries()["matching"].settings()
    with pytest.raises(NotConfiguredForProduction) as refused:
        settings.check_production()
    assert settings.production_gaps() == [
        "TANHUI_MATCHING_DATABASE_URL",
        "TANHUI_KAFKA_BOOTSTRAP_SERVERS",
        "TANHUI_JWT_ISSUER",
        "TANHUI_REGISTRY_URL",
        "TANHUI_SETTLEMENT_URL",
        "TANHUI_MARKET_TOKEN",
        "TANHUI_JWKS_URL (or TANHUI_JWKS_FILE)",
        "TANHUI_LEDGER_KEY_FILE",
    ]
    assert "TANHUI_MARKET_TOKEN" in str(refused.value)


def test_development_and_tests_run_on_the_defaults(clean_environment: pytest.MonkeyPatch) -> None:
    for env in ("development", "test"):
        clean_environment.setenv("TANHUI_ENV", env)
        for entry in service_entries().values():
            entry.settings().check_production()  # nothing raised
