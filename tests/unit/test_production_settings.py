"""A service started with `TANHUI_ENV=production` refuses development defaults (localhost
addresses, the development token issuer, missing secrets), and the Kubernetes manifests in
`deploy/k8s/base` give every service all that production requires."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from libs.servicekit.entries import service_entries
from libs.servicekit.settings import NotConfiguredForProduction

BASE = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "base"


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No TANHUI_ variable of the test run leaks into the settings under test."""
    for name in list(os.environ):
        if name.startswith("TANHUI_") or name == "KAFKA_BOOTSTRAP_SERVERS":
            monkeypatch.delenv(name)
    return monkeypatch


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
    ]
    assert "TANHUI_MARKET_TOKEN" in str(refused.value)


def test_development_and_tests_run_on_the_defaults(clean_environment: pytest.MonkeyPatch) -> None:
    for env in ("development", "test"):
        clean_environment.setenv("TANHUI_ENV", env)
        for entry in service_entries().values():
            entry.settings().check_production()  # nothing raised


def manifests() -> list[dict[str, Any]]:
    documents = []
    for path in sorted(BASE.glob("*.yaml")):
        documents += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return documents


def container_environment(container: dict[str, Any], config: dict[str, str]) -> dict[str, str]:
    """What a container's process sees: the shared ConfigMap, then its own `env` (a value from
    a Secret stands in as a placeholder: its presence is what counts)."""
    environment: dict[str, str] = {}
    for source in container.get("envFrom", []):
        assert source["configMapRef"]["name"] == "tanhui-config"
        environment |= config
    for variable in container.get("env", []):
        environment[variable["name"]] = str(variable.get("value", "from-a-secret"))
    return environment


@pytest.mark.parametrize("service", ["registry", "issuance", "matching", "disclosure"])
def test_the_manifests_give_each_service_what_production_requires(
    service: str, clean_environment: pytest.MonkeyPatch
) -> None:
    documents = manifests()
    config = next(d["data"] for d in documents if d["kind"] == "ConfigMap")
    assert config["TANHUI_ENV"] == "production"
    deployment = next(
        d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"] == service
    )
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    for name, value in container_environment(container, config).items():
        clean_environment.setenv(name, value)
    settings = service_entries()[service].settings()
    assert settings.production_gaps() == []
    # The migrating init container needs the database only.
    (migrate,) = pod["initContainers"]
    assert f"TANHUI_{service.upper()}_DATABASE_URL" in container_environment(migrate, config)
