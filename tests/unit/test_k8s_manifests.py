"""The Kubernetes manifests (`deploy/k8s`): every service gets what production requires, and
matching runs one replica in every overlay."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from libs.servicekit.entries import service_entries

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
BASE = K8S / "base"


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
    # Behind the ingress (and the portal's comment form), a client's address is forwarded.
    assert config["FORWARDED_ALLOW_IPS"] not in ("", "127.0.0.1")
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


def deployment_replicas() -> dict[str, int]:
    return {
        d["metadata"]["name"]: d["spec"]["replicas"]
        for d in manifests()
        if d["kind"] == "Deployment"
    }


def patched_replicas(overlay: str) -> dict[str, int]:
    """Each Deployment's replicas once the overlay's `/spec/replicas` patches are applied
    (a target's name is an anchored regular expression, as kustomize reads it)."""
    replicas = deployment_replicas()
    kustomization = yaml.safe_load((K8S / "overlays" / overlay / "kustomization.yaml").read_text())
    for patch in kustomization.get("patches", []):
        target = patch["target"]
        if target.get("kind") != "Deployment":
            continue
        (operation,) = yaml.safe_load(patch["patch"])
        assert operation["path"] == "/spec/replicas"
        for name in replicas:
            if re.fullmatch(target.get("name", ".*"), name):
                replicas[name] = operation["value"]
    return replicas


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_matching_runs_one_replica_the_others_scale(overlay: str) -> None:
    """Matching's continuous book lives in the process that last wrote it: a second replica
    taking orders would make nearly every order rebuild the book (base/matching.yaml)."""
    replicas = patched_replicas(overlay)
    assert replicas["matching"] == 1
    if overlay == "prod":
        assert all(replicas[s] >= 2 for s in ("registry", "issuance", "disclosure"))
