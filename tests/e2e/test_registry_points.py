"""Carbon points (碳积分) through the registry's API: who may do what, every refusal, keys,
and the public view in disclosure. (The model-based state machine: tests/integration.)"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.conftest import Platform
from tests.e2e.conftest import Slice
from tests.e2e.test_registry_movements import issue
from tests.e2e.test_thin_slice import open_account

OPERATOR = "OPR-BUS"


async def post(
    s: Slice, path: str, body: dict[str, Any], headers: dict[str, str]
) -> httpx.Response:
    return await s.registry.post(path, json=body, headers=headers)


def slug(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return str(response.json()["type"]).rsplit(":", 1)[-1]


async def retirement(s: Slice, platform: Platform, owner: str, tonnes: int, purpose: str) -> str:
    account = await open_account(s, owner)
    await issue(s, account, 2024, tonnes)
    body = {"account": account, "quantity": tonnes, "beneficiary": "积分", "purpose": purpose}
    retired = await post(s, "/v1/retirements", body, platform.token(owner, "account_holder"))
    assert retired.status_code == 201, retired.text
    return str(retired.json()["id"])


async def schemes(s: Slice) -> tuple[str, str]:
    """A backed scheme and an unbacked one, both run by OPERATOR."""
    ids = []
    for name, backed in (("公交积分", True), ("试点积分", False)):
        body = {"name": name, "operator": OPERATOR, "backed": backed}
        ids.append((await post(s, "/v1/points/schemes", body, s.admin)).json()["id"])
    return ids[0], ids[1]


async def backed_by_two_tonnes(s: Slice, platform: Platform, scheme: str) -> None:
    good = await retirement(s, platform, OPERATOR, 2, "points_backing")
    body = {"retirement_id": good}
    operator = platform.token(OPERATOR, "account_holder")
    backed = await post(s, f"/v1/points/schemes/{scheme}/backings", body, operator)
    assert backed.status_code == 201, backed.text


def outcomes(cases: list[tuple[httpx.Response, int, str]]) -> list[tuple[int, str]]:
    """(status, problem slug) of each response, to compare with what each case expects."""
    return [(response.status_code, slug(response)) for response, _, _ in cases]


async def test_only_the_admin_creates_schemes_and_backings_must_be_eligible(
    s: Slice, platform: Platform
) -> None:
    operator = platform.token(OPERATOR, "account_holder")
    backed, free = await schemes(s)
    not_admin = await post(
        s, "/v1/points/schemes", {"name": "x", "operator": OPERATOR, "backed": True}, operator
    )
    assert not_admin.status_code == 403

    good = await retirement(s, platform, OPERATOR, 2, "points_backing")
    wrong_purpose = await retirement(s, platform, "OPR-BUS-2", 1, "voluntary_offset")
    backings = f"/v1/points/schemes/{backed}/backings"
    cases = [
        (
            await post(s, backings, {"retirement_id": wrong_purpose}, s.admin),
            409,
            "backing-not-eligible",
        ),
        (
            await post(s, backings, {"retirement_id": "RET-NONE"}, operator),
            404,
            "unknown-retirement",
        ),
        (
            await post(s, f"/v1/points/schemes/{free}/backings", {"retirement_id": good}, operator),
            409,
            "scheme-not-backed",
        ),
        (
            await post(
                s, "/v1/points/schemes/PTS-999999/backings", {"retirement_id": good}, operator
            ),
            404,
            "unknown-points-scheme",
        ),
    ]
    assert outcomes(cases) == [(status, cause) for _, status, cause in cases]
    assert (await post(s, backings, {"retirement_id": good}, operator)).status_code == 201


async def mint_move_and_burn(s: Slice, platform: Platform, scheme: str) -> None:
    """1,500 points minted to P-0001 under a key, 400 moved to ENT-OTHER, 100 of those spent."""
    operator = platform.token(OPERATOR, "account_holder")
    mint = {"scheme": scheme, "to": "P-0001", "points": 1500, "reason": "公交出行"}
    keyed = operator | {"Idempotency-Key": "mint-1"}
    first = await post(s, "/v1/points/mint", mint, keyed)
    again = await post(s, "/v1/points/mint", mint, keyed)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]  # one mint under one key
    move = {"scheme": scheme, "from": "P-0001", "to": "ENT-OTHER", "points": 400}
    moved = await post(s, "/v1/points/transfers", move, operator)
    assert moved.status_code == 201, moved.text
    spend = {"scheme": scheme, "holder": "ENT-OTHER", "points": 100, "item": "咖啡"}
    spent = await post(
        s, "/v1/points/redemptions", spend, platform.token("ENT-OTHER", "account_holder")
    )
    assert spent.status_code == 201, spent.text  # a holder spends its own points


async def test_points_stay_within_their_backing_and_refuse_what_they_must(
    s: Slice, platform: Platform
) -> None:
    operator = platform.token(OPERATOR, "account_holder")
    stranger = platform.token("ENT-OTHER", "account_holder")
    backed, free = await schemes(s)
    await backed_by_two_tonnes(s, platform, backed)
    await mint_move_and_burn(s, platform, backed)
    mint = {"scheme": backed, "to": "P-0001", "points": 1, "reason": "公交出行"}
    move = {"scheme": backed, "from": "P-0001", "to": "ENT-OTHER", "points": 1}
    redeem = {"scheme": backed, "holder": "P-0001", "points": 1101, "item": "月票"}
    cases = [
        (await post(s, "/v1/points/mint", mint, stranger), 403, "not-the-operator"),
        # Redemption burns points; it does not free backing: 500 left to mint, not 600.
        (
            await post(s, "/v1/points/mint", mint | {"points": 501}, operator),
            409,
            "points-backing-exceeded",
        ),
        (
            await post(s, "/v1/points/transfers", move | {"to": "P-0001"}, operator),
            422,
            "same-holder",
        ),
        (await post(s, "/v1/points/transfers", move, stranger), 403, "not-the-operator"),
        (await post(s, "/v1/points/redemptions", redeem, operator), 409, "insufficient-points"),
    ]
    assert outcomes(cases) == [(status, cause) for _, status, cause in cases]
    unbacked = {"scheme": free, "to": "P-1", "points": 10**9, "reason": "试点"}
    assert (await post(s, "/v1/points/mint", unbacked, operator)).status_code == 201

    view = (await s.registry.get(f"/v1/points/schemes/{backed}")).json()
    assert (view["backing_points"], view["minted"], view["redeemed"], view["outstanding"]) == (
        2000,
        1500,
        100,
        1400,
    )
    statement = f"/v1/points/schemes/{backed}/holders/ENT-OTHER"
    own = (await s.registry.get(statement, headers=stranger)).json()
    assert own["balance"] == 300 and [e["delta"] for e in own["entries"]] == [400, -100]
    nosy = platform.token("ENT-NOSY", "account_holder")
    assert (await s.registry.get(statement, headers=nosy)).status_code == 403


async def test_disclosure_shows_each_schemes_backing_and_outstanding_points(
    s: Slice, platform: Platform
) -> None:
    backed, free = await schemes(s)
    await backed_by_two_tonnes(s, platform, backed)
    await mint_move_and_burn(s, platform, backed)
    async with asyncio.timeout(20):
        while True:
            public = (await s.disclosure.get("/v1/public/points")).json()
            shown = {p["id"]: p for p in public["items"]}
            if backed in shown and free in shown and shown[backed]["redeemed"] == 100:
                break
            await asyncio.sleep(0.1)
    assert (shown[backed]["backing_points"], shown[backed]["outstanding"]) == (2000, 1400)
    assert shown[free]["backed"] is False
    for prefix, words in (("", "碳积分"), ("/en", "Carbon points")):
        page = await s.disclosure.get(f"{prefix}/points")
        assert page.status_code == 200 and words in page.text and "公交积分" in page.text
        assert "1,400" in page.text
