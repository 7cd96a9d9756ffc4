"""Helpers driving the issuance API through a project's lifecycle (tests only)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import Platform

PROBLEM = "application/problem+json"
# Qingpu, ~121.1°E 31.15°N: 100 m ≈ 0.001049° of longitude and 0.000902° of latitude.
LON, LAT = 121.10, 31.15
DLON, DLAT = 0.001049, 0.000902


def square(x: float, y: float, size: float = 1.0) -> list[list[float]]:
    """A closed ring of a `size`×`size` hectare-ish square, `x`, `y` hundred-metre steps away."""
    x0, y0 = LON + x * DLON, LAT + y * DLAT
    x1, y1 = x0 + size * DLON, y0 + size * DLAT
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def feature(parcel_id: str, ring: list[list[float]], area_ha: float = 1.0) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"parcel_id": parcel_id, "area_ha": area_ha, "name": f"田块 {parcel_id}"},
    }


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


@dataclass
class Actors:
    developer: dict[str, str]
    reviewer: dict[str, str]
    validator: dict[str, str]
    verifier: dict[str, str]
    admin: dict[str, str]
    other_developer: dict[str, str]

    @classmethod
    def of(cls, platform: Platform, org: str = "COOP-QP-07") -> Actors:
        return cls(
            developer=platform.token(org, "developer", "account_holder"),
            reviewer=platform.token("SEEE-REVIEW", "reviewer"),
            validator=platform.token("VAL-BODY-1", "validator"),
            verifier=platform.token("VER-BODY-1", "verifier"),
            admin=platform.token("ORG-REGISTRY", "registry_admin"),
            other_developer=platform.token("COOP-WJ-02", "developer"),
        )


def project_body(account: str = "ACC-000001", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "county": "QP",
        "title": "青浦区水稻间歇灌溉甲烷减排项目",
        "title_en": "Qingpu rice AWD methane reduction",
        "methodology": "YRD-AG-M001",
        "methodology_parameters": {"region": "east_asia", "gwp": "AR5"},
        "crediting_start": "2025-01-01",
        "crediting_end": "2034-12-31",
        "registry_account": account,
    }
    body.update(overrides)
    return body


async def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


async def problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:tanhui:problem:{slug}", body
    return body


async def upload(
    client: httpx.AsyncClient,
    project: str,
    kind: str,
    headers: dict[str, str],
    content: bytes = b"%PDF-1.7 test document",
    report_id: str | None = None,
) -> httpx.Response:
    data = {"kind": kind} | ({"report_id": report_id} if report_id else {})
    files = {"file": (f"{kind}.pdf", content, "application/pdf")}
    return await client.post(
        f"/v1/projects/{project}/documents", data=data, files=files, headers=headers
    )


async def act(
    client: httpx.AsyncClient, project: str, action: str, headers: dict[str, str], comment: str = ""
) -> httpx.Response:
    return await client.post(
        f"/v1/projects/{project}/{action}", json={"comment": comment or None}, headers=headers
    )


async def registered_project(
    client: httpx.AsyncClient,
    actors: Actors,
    parcels: dict[str, Any],
    notice_seconds: float,
    **overrides: Any,
) -> str:
    """Draft → registered along the happy path; returns the project code."""
    project = await project_under_notice(client, actors, parcels, **overrides)
    await asyncio.sleep(notice_seconds)
    await ok(await act(client, project, "register", actors.admin))
    return project


async def project_under_notice(
    client: httpx.AsyncClient, actors: Actors, parcels: dict[str, Any], **overrides: Any
) -> str:
    """Draft → under public notice along the happy path; returns the project code."""
    project = (
        await ok(
            await client.post(
                "/v1/projects", json=project_body(**overrides), headers=actors.developer
            ),
            201,
        )
    )["id"]
    await ok(await upload(client, project, "project_design", actors.developer), 201)
    await ok(
        await client.post(
            f"/v1/projects/{project}/parcels", json=parcels, headers=actors.developer
        ),
        201,
    )
    await ok(await act(client, project, "submit", actors.developer))
    await ok(await act(client, project, "start_review", actors.reviewer))
    await ok(await upload(client, project, "validation_report", actors.validator), 201)
    await ok(await act(client, project, "validate", actors.validator))
    await ok(await act(client, project, "start_notice", actors.admin))
    return str(project)


def m001_row(parcel_id: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "parcel_id": parcel_id,
        "baseline_water_regime": "continuously_flooded",
        "project_water_regime": "multiple_drainage",
        "preseason_water_regime": "non_flooded_lt_180",
    }
    row.update(overrides)
    return row
