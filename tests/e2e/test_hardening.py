"""Issue 24's reproductions, through real uvicorn processes: no input makes a service answer
5xx, a refusal changes nothing, and an error never poisons a keep-alive connection."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from libs.events.kafka import ensure_topics, platform_topics
from tests.conftest import Platform
from tests.e2e.issuance_flow import m001_row, project_body
from tests.service_processes import ServiceProcesses, service_processes

PROBLEM = "application/problem+json"
BIG = 9_007_199_254_740_993  # 2^53 + 1


@pytest.fixture(scope="module")
async def stack(platform: Platform) -> AsyncIterator[ServiceProcesses]:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await ensure_topics(platform.bootstrap, platform_topics(prefix))
    async with service_processes(
        platform, prefix, ("registry", "issuance", "disclosure")
    ) as running:
        yield running


@pytest.fixture(scope="module")
async def admin(platform: Platform) -> dict[str, str]:
    return platform.token("ORG-REGISTRY", "registry_admin")


async def digest(stack: ServiceProcesses, admin: dict[str, str]) -> Any:
    async with httpx.AsyncClient(base_url=stack.url["registry"], headers=admin) as client:
        return (await client.get("/v1/ledger/digest")).json()


def assert_refused(response: httpx.Response, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, (response.request.url, response.text)
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    return body


async def test_nul_in_bodies_is_refused_naming_the_field_and_changes_nothing(
    stack: ServiceProcesses, admin: dict[str, str]
) -> None:
    before = await digest(stack, admin)
    async with httpx.AsyncClient(base_url=stack.url["registry"], headers=admin) as registry:
        cases = [
            ("/v1/transfers", {"from_account": "x\u0000", "to_account": "y", "quantity": 1}),
            (
                "/v1/holds",
                {"account": "a\u0000", "quantity": 1, "purpose": "escrow", "holder": "h"},
            ),
            ("/v1/accounts", {"name": "a\u0000b"}),
            (
                "/v1/bulk",
                {
                    "mode": "atomic",
                    "operations": [
                        {
                            "op": "transfer",
                            "from_account": "x\u0000",
                            "to_account": "y",
                            "quantity": 1,
                        }
                    ],
                },
            ),
        ]
        for path, body in cases:
            for key in (None, f"nul-{uuid.uuid4()}"):
                headers = {"Idempotency-Key": key} if key else {}
                refused = assert_refused(await registry.post(path, json=body, headers=headers))
                assert refused["errors"][0]["type"] == "nul_character", refused
                assert refused["errors"][0]["location"].startswith("body."), refused
    assert await digest(stack, admin) == before


async def test_nul_in_paths_and_cursors_is_refused_for_everyone(
    stack: ServiceProcesses, admin: dict[str, str]
) -> None:
    authenticated = {
        "registry": [
            "/v1/accounts?cursor=%00",
            "/v1/accounts/x%00",
            "/v1/transfers/x%00",
            "/v1/batches/x%00/supply",
        ]
    }
    anonymous = {
        "registry": ["/v1/retirements/x%00"],
        "issuance": [
            "/v1/projects/%00",
            "/v1/projects/%00/comments",
            "/v1/documents/%00",
            "/v1/monitoring-reports/%00",
            "/v1/projects?cursor=%00",
        ],
        "disclosure": ["/v1/public/issuances/%00", "/v1/public/issuances?cursor=%00"],
    }
    for calls, headers in ((authenticated, admin), (anonymous, {})):
        for service, paths in calls.items():
            async with httpx.AsyncClient(base_url=stack.url[service], headers=headers) as client:
                for path in paths:
                    refused = assert_refused(await client.get(path))
                    assert refused["errors"][0]["type"] == "nul_character"


async def test_integers_outside_the_safe_range_are_refused_naming_the_field(
    stack: ServiceProcesses, admin: dict[str, str], platform: Platform
) -> None:
    async with httpx.AsyncClient(base_url=stack.url["registry"], headers=admin) as registry:
        for after in ("9223372036854775808", "9007199254740992", "-" + "9" * 5000):
            refused = assert_refused(await registry.get(f"/v1/ledger/events?after={after}"))
            assert refused["errors"][0] == {
                "location": "query.after",
                "message": "integers must lie within ±9007199254740991 (2^53 − 1)",
                "type": "integer_out_of_range",
            }
        fine = await registry.get("/v1/ledger/events?after=9007199254740991")
        assert fine.status_code == 200
    developer = platform.token("COOP-QP-01", "developer")
    keyed = developer | {"Idempotency-Key": f"big-{uuid.uuid4()}"}
    async with httpx.AsyncClient(base_url=stack.url["issuance"], headers=keyed) as issuance:
        cases = [
            (
                "/v1/projects/NOPE/monitoring-reports",
                {
                    "period_start": "2025-01-01",
                    "period_end": "2025-12-31",
                    "activity": [{"parcel_id": "P1", "x": BIG}],
                },
                "body.activity.0.x",
            ),
            (
                "/v1/projects",
                project_body(methodology_parameters={"region": "east_asia", "gwp": BIG}),
                "body.methodology_parameters.gwp",
            ),
            ("/v1/projects/NOPE/parcels", {"type": "FeatureCollection", "n": -BIG}, "body.n"),
            (
                "/v1/projects",
                project_body(methodology_parameters={"g": 10**30}),
                "body.methodology_parameters.g",
            ),
        ]
        for path, body, location in cases:
            refused = assert_refused(await issuance.post(path, json=body))
            assert refused["errors"][0]["location"] == location, refused
            assert refused["errors"][0]["type"] == "integer_out_of_range"


async def test_malformed_json_shapes_are_400_not_500(
    stack: ServiceProcesses, admin: dict[str, str]
) -> None:
    json_headers = admin | {"content-type": "application/json"}
    async with httpx.AsyncClient(base_url=stack.url["registry"], headers=json_headers) as client:
        for body in (b"[" * 5000 + b"]" * 5000, b'{"name": "\\ud800"}', b'{"name": NaN}'):
            assert_refused(await client.post("/v1/accounts", content=body), 400)


async def test_an_error_never_resets_the_next_request_on_the_connection(
    stack: ServiceProcesses, admin: dict[str, str]
) -> None:
    # One connection for everything (httpx keeps it alive): each refusal is followed by a
    # request that must be answered on the same connection.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    for service in ("registry", "issuance", "disclosure"):
        async with httpx.AsyncClient(
            base_url=stack.url[service], headers=admin, limits=limits
        ) as client:
            for _ in range(3):
                assert (await client.get("/v1/public/issuances/%00")).status_code in (404, 422)
                assert (await client.get("/healthz")).status_code == 200
                assert (await client.post("/v1/accounts", content=b"[" * 3000)).status_code < 500
                assert (await client.get("/healthz")).status_code == 200


async def test_anonymous_quantify_is_bounded_and_does_not_stall_the_service(
    stack: ServiceProcesses,
) -> None:
    stratum = m001_row("x", area_ha=10)
    del stratum["parcel_id"]
    params: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=stack.url["issuance"], timeout=60) as client:
        path = "/v1/methodologies/YRD-AG-M001/quantify"
        too_many = {"parameters": params | {"strata": [stratum] * 10_001}, "trace": False}
        assert_refused(await client.post(path, json=too_many))
        traced = {"parameters": params | {"strata": [stratum] * 1_001}}
        refused = assert_refused(await client.post(path, json=traced))
        assert "trace=false" in refused["errors"][0]["message"]
        oversized = b'{"parameters": {"x": "' + b"x" * (5 * 1024 * 1024) + b'"}}'
        assert_refused(
            await client.post(
                path, content=oversized, headers={"content-type": "application/json"}
            ),
            413,
        )

        large = {"parameters": params | {"strata": [stratum] * 10_000}, "trace": False}
        request = asyncio.create_task(client.post(path, json=large))
        await asyncio.sleep(0.05)
        waits = []
        while not request.done():
            started = time.monotonic()
            assert (await client.get("/healthz")).status_code == 200
            waits.append(time.monotonic() - started)
            await asyncio.sleep(0.02)
        answer = await request
        assert answer.status_code == 200, answer.text
        assert answer.json()["trace"] is None and answer.json()["net_tco2e"]
        assert waits and max(waits) < 1.0, waits


async def test_html_has_a_content_security_policy_and_nothing_is_sniffed(
    stack: ServiceProcesses, admin: dict[str, str], platform: Platform
) -> None:
    async with httpx.AsyncClient(base_url=stack.url["registry"], headers=admin) as registry:
        opened = await registry.post("/v1/accounts", json={"owner": "ENT-CSP", "name": "csp"})
        account = opened.json()["id"]
        issued = await registry.post(
            "/v1/issuances",
            json={
                "program": "YRDPH",
                "project": "QP0424",
                "vintage": 2024,
                "quantity": 10,
                "account": account,
            },
        )
        assert issued.status_code == 201, issued.text
        retired = await registry.post(
            "/v1/retirements",
            json={
                "account": account,
                "quantity": 1,
                "beneficiary": "x",
                "purpose": "voluntary_offset",
            },
        )
        assert retired.status_code == 201, retired.text
        certificate = await registry.get(retired.json()["certificate_url"])
        assert certificate.status_code == 200
        assert certificate.headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in certificate.headers["content-security-policy"]
        assert certificate.headers["x-content-type-options"] == "nosniff"
        assert (await registry.get("/healthz")).headers["x-content-type-options"] == "nosniff"
    async with httpx.AsyncClient(base_url=stack.url["issuance"]) as issuance:
        spec = (await issuance.get("/openapi.json")).json()
        parcels = spec["paths"]["/v1/projects/{project_id}/parcels"]["get"]["responses"]["200"]
        assert list(parcels["content"]) == ["application/geo+json"]
