"""The walking skeleton's slice: registry HTTP → events → relay → Kafka → disclosure HTTP."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import orjson

from tests.conftest import Platform
from tests.e2e.conftest import Slice
from tests.integration.kafka_tools import read_all

PROBLEM = "application/problem+json"


async def open_account(s: Slice, owner: str = "COOP-QP-01") -> str:
    response = await s.registry.post(
        "/v1/accounts", json={"owner": owner, "name": "青浦稻米合作社"}, headers=s.admin
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def log_head(s: Slice) -> int:
    sequence, _ = await s.app.state.runtime.store.head()  # type: ignore[attr-defined]
    return int(sequence)


async def test_an_issuance_is_publicly_visible_in_disclosure_within_two_seconds(s: Slice) -> None:
    account = await open_account(s)
    buffer = await open_account(s, "YRD-BUFFER")
    response = await s.registry.post(
        "/v1/issuances",
        json={
            "program": "YRDPH",
            "project": "QP0007",
            "vintage": 2024,
            "quantity": 5000,
            "account": account,
            "buffer_account": buffer,
            "buffer_quantity": 1000,
        },
        headers=s.admin,
    )
    assert response.status_code == 201, response.text
    issued = response.json()
    assert issued["batch_id"] == "YRDPH-15-QP0007-2024-001"
    assert [b["serial"] for b in issued["blocks"]] == [
        "YRDPH-15-QP0007-2024-001-000000001-000004000",
        "YRDPH-15-QP0007-2024-001-000004001-000005000",
    ]
    started = time.monotonic()
    while True:
        public = await s.disclosure.get("/v1/public/issuances/YRDPH-15-QP0007-2024-001")
        if public.status_code == 200:
            break
        assert time.monotonic() - started < 2.0, "not visible in disclosure within 2 s"
        await asyncio.sleep(0.05)
    body = public.json()
    assert (body["quantity"], body["buffer_quantity"], body["start"], body["end"]) == (
        5000,
        1000,
        1,
        5000,
    )
    assert [b["quantity"] for b in body["blocks"]] == [4000, 1000]
    listing = (await s.disclosure.get("/v1/public/issuances")).json()
    assert [i["batch_id"] for i in listing["items"]] == ["YRDPH-15-QP0007-2024-001"]


async def test_trace_context_travels_from_the_request_through_kafka(
    s: Slice, platform: Platform
) -> None:
    """The request's W3C trace context is in the envelope, the Kafka headers and the event the
    consumer's command appends, so one trace spans HTTP → log → Kafka → consumer."""
    account = await open_account(s)
    settings = s.app.state.settings  # type: ignore[attr-defined]
    records = await read_all(platform.bootstrap, settings.own_topic, expect_at_least=1)
    record = records[-1]
    envelope = orjson.loads(record.value)
    assert envelope["data"]["account_id"] == account
    traceparent = envelope["traceparent"]
    assert traceparent and traceparent.startswith("00-") and len(traceparent.split("-")[1]) == 32
    assert dict(record.headers)["traceparent"] == traceparent.encode()
    # A caller's trace context is continued: same trace id, a span of the registry's own.
    caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    opened = await s.registry.post(
        "/v1/accounts",
        json={"owner": "ORG-TRACE", "name": "t"},
        headers=s.admin | {"traceparent": caller},
    )
    assert opened.status_code == 201
    records = await read_all(platform.bootstrap, settings.own_topic, expect_at_least=2)
    envelopes = [orjson.loads(r.value) for r in records]
    (continued,) = [
        e["traceparent"] for e in envelopes if e["data"]["account_id"] == opened.json()["id"]
    ]
    assert continued.split("-")[1] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert continued.split("-")[2] != "00f067aa0ba902b7"


async def test_unit_numbers_continue_per_project_across_batches(s: Slice) -> None:
    account = await open_account(s)
    body = {
        "program": "YRDPH",
        "project": "WJ0001",
        "vintage": 2024,
        "quantity": 10,
        "account": account,
    }
    first = (await s.registry.post("/v1/issuances", json=body, headers=s.admin)).json()
    second = (
        await s.registry.post("/v1/issuances", json=body | {"vintage": 2025}, headers=s.admin)
    ).json()
    third = (await s.registry.post("/v1/issuances", json=body, headers=s.admin)).json()
    assert first["batch_id"] == "YRDPH-15-WJ0001-2024-001"
    assert second["blocks"][0]["serial"] == "YRDPH-15-WJ0001-2025-001-000000011-000000020"
    assert third["blocks"][0]["serial"] == "YRDPH-15-WJ0001-2024-002-000000021-000000030"
    again = await s.registry.post(
        "/v1/issuances", json=body | {"batch_id": "YRDPH-15-WJ0001-2024-002"}, headers=s.admin
    )
    assert again.status_code == 409
    assert again.json()["type"] == "urn:tanhui:problem:batch-already-issued"


async def test_idempotent_replay_returns_the_first_response_and_mismatch_is_409(s: Slice) -> None:
    key = {"Idempotency-Key": "eod-2026-11-23-0001"}
    body = {"owner": "COOP-JS-02", "name": "嘉善合作社"}
    first = await s.registry.post("/v1/accounts", json=body, headers=s.admin | key)
    head = await log_head(s)
    replay = await s.registry.post("/v1/accounts", json=body, headers=s.admin | key)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    # Same body with keys in another order and other whitespace is the same request.
    reordered = await s.registry.post(
        "/v1/accounts",
        content='{ "name": "嘉善合作社", "owner": "COOP-JS-02" }',
        headers=s.admin | key | {"content-type": "application/json"},
    )
    assert reordered.json() == first.json()
    mismatch = await s.registry.post(
        "/v1/accounts", json=body | {"name": "another"}, headers=s.admin | key
    )
    assert mismatch.status_code == 409
    assert mismatch.headers["content-type"] == PROBLEM
    assert mismatch.json()["type"] == "urn:tanhui:problem:idempotency-key-reused"
    assert await log_head(s) == head, "replays and mismatches append nothing"


async def test_concurrent_requests_with_one_key_take_effect_once(s: Slice) -> None:
    key = {"Idempotency-Key": "same-key"}
    body = {"owner": "COOP-QP-09", "name": "并发"}
    responses = await asyncio.gather(
        *(s.registry.post("/v1/accounts", json=body, headers=s.admin | key) for _ in range(20))
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1


async def test_concurrent_requests_with_one_key_and_other_bodies_take_effect_once(
    s: Slice,
) -> None:
    key = {"Idempotency-Key": "same-key-other-bodies"}
    responses = await asyncio.gather(
        *(
            s.registry.post(
                "/v1/accounts", json={"owner": "COOP-QP-10", "name": f"n{i}"}, headers=s.admin | key
            )
            for i in range(10)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 9
    assert {r.json()["type"] for r in responses if r.status_code == 409} == {
        "urn:tanhui:problem:idempotency-key-reused"
    }


async def test_many_keys_in_one_batch_each_take_effect_once_and_replay_their_own_answer(
    s: Slice,
) -> None:
    """Keyed commands that meet in one group commit look their keys up together and store
    them with the batch's flush: each key still answers its own first response."""

    def open_account(i: int) -> Any:
        body = {"owner": "COOP-QP-11", "name": f"batch-{i}"}
        return s.registry.post(
            "/v1/accounts", json=body, headers=s.admin | {"Idempotency-Key": f"batch-key-{i}"}
        )

    first = await asyncio.gather(*(open_account(i) for i in range(30)))
    head = await log_head(s)
    again = await asyncio.gather(*(open_account(i) for i in range(30)))
    assert [r.status_code for r in first] == [201] * 30
    assert len({r.json()["id"] for r in first}) == 30
    assert [r.json() for r in again] == [r.json() for r in first]
    assert {r.headers.get("idempotent-replayed") for r in again} == {"true"}
    assert await log_head(s) == head


async def test_authentication_and_roles(s: Slice, platform: Platform) -> None:
    body = {
        "program": "YRDPH",
        "project": "QP0001",
        "vintage": 2024,
        "quantity": 1,
        "account": "ACC-000001",
    }
    anonymous = await s.registry.post("/v1/issuances", json=body)
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == PROBLEM
    assert anonymous.headers["www-authenticate"] == "Bearer"
    forged = await s.registry.post(
        "/v1/issuances", json=body, headers={"Authorization": "Bearer not.a.jwt"}
    )
    assert forged.status_code == 401
    member = platform.token("ORG-MEMBER", "member")
    forbidden = await s.registry.post("/v1/issuances", json=body, headers=member)
    assert forbidden.status_code == 403
    assert forbidden.json()["type"] == "urn:tanhui:problem:forbidden"
    # Opening an account for another organisation needs registry_admin.
    other = await s.registry.post(
        "/v1/accounts", json={"owner": "SOMEONE-ELSE", "name": "x"}, headers=member
    )
    assert other.status_code == 403
    own = await s.registry.post("/v1/accounts", json={"name": "mine"}, headers=member)
    assert own.status_code == 201 and own.json()["owner"] == "ORG-MEMBER"


async def test_accounts_of_other_organisations_are_not_found(s: Slice, platform: Platform) -> None:
    account = await open_account(s, owner="COOP-QP-01")
    owner = await s.registry.get(
        f"/v1/accounts/{account}", headers=platform.token("COOP-QP-01", "account_holder")
    )
    assert owner.status_code == 200
    stranger = await s.registry.get(
        f"/v1/accounts/{account}", headers=platform.token("COOP-WJ-05", "account_holder")
    )
    unknown = await s.registry.get(
        "/v1/accounts/ACC-999999", headers=platform.token("COOP-WJ-05", "account_holder")
    )
    assert stranger.status_code == unknown.status_code == 404
    assert stranger.json()["type"] == unknown.json()["type"] == "urn:tanhui:problem:unknown-account"
    auditor = await s.registry.get(
        f"/v1/accounts/{account}", headers=platform.token("AUDIT-1", "auditor")
    )
    assert auditor.status_code == 200


async def test_bad_input_gets_problem_json_and_changes_nothing(s: Slice) -> None:
    account = await open_account(s)
    head = await log_head(s)
    json_headers = s.admin | {"content-type": "application/json"}
    malformed = await s.registry.post(
        "/v1/issuances", content=b'{"program": "YRDPH",', headers=json_headers
    )
    assert malformed.status_code == 400
    assert malformed.json()["type"] == "urn:tanhui:problem:malformed-body"
    invalid = await s.registry.post(
        "/v1/issuances",
        json={
            "program": "YRDPH",
            "project": "XX0001",
            "vintage": 2024,
            "quantity": 0,
            "account": account,
        },
        headers=s.admin,
    )
    assert invalid.status_code == 422 and invalid.headers["content-type"] == PROBLEM
    assert {e["location"] for e in invalid.json()["errors"]} == {"body.project", "body.quantity"}
    extra = await s.registry.post(
        "/v1/accounts", json={"name": "x", "surprise": 1}, headers=s.admin
    )
    assert extra.status_code == 422
    too_large = await s.registry.post(
        "/v1/accounts", content=b'{"name": "' + b"x" * 2_000_000 + b'"}', headers=json_headers
    )
    assert too_large.status_code == 413
    assert too_large.json()["type"] == "urn:tanhui:problem:body-too-large"
    bad_key = await s.registry.post(
        "/v1/accounts", json={"name": "x"}, headers=s.admin | {"Idempotency-Key": "k" * 300}
    )
    assert bad_key.status_code == 400
    unknown_account = await s.registry.post(
        "/v1/issuances",
        json={
            "program": "YRDPH",
            "project": "QP0001",
            "vintage": 2024,
            "quantity": 5,
            "account": "ACC-404",
        },
        headers=s.admin,
    )
    assert unknown_account.status_code == 404
    missing = await s.registry.get("/v1/nowhere")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    assert await log_head(s) == head


async def test_chunked_oversized_body_is_refused(s: Slice) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"x" * 65536

    response = await s.registry.post(
        "/v1/accounts", content=chunks(), headers=s.admin | {"content-type": "application/json"}
    )
    assert response.status_code == 413


async def test_health_and_readiness(s: Slice) -> None:
    assert (await s.registry.get("/healthz")).json() == {"status": "ok"}
    ready = await s.registry.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}
    assert isinstance(s.registry, httpx.AsyncClient)
    public = (await s.disclosure.get("/readyz")).json()
    sources = sorted(name.rsplit(".", 1)[-1] for name in public["consumer_lag"])
    assert sources == ["issuance", "matching", "registry"]
    assert all(isinstance(lag, int) and lag >= 0 for lag in public["consumer_lag"].values())
