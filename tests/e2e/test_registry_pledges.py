"""Pledges over a project's future issuances (质押): each issuance's pledged share lands in a
pledge hold for the lender in the issuance's transaction, up to the pledged quantity; pledged
units refuse every movement; enforcement delivers them (and later shares) to the lender;
release frees later issuances; rebuild replays it all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.registry.rebuild import rebuild
from tests.conftest import Platform
from tests.e2e.conftest import Slice
from tests.e2e.test_registry_movements import holdings, issue
from tests.e2e.test_registry_points import post, slug
from tests.e2e.test_thin_slice import open_account

DEVELOPER, LENDER = "COOP-QP-PL", "BANK-AGRI-PL"


def pledge_body(account: str, lender_account: str, **terms: Any) -> dict[str, Any]:
    return {
        "project": "QP0007",
        "account": account,
        "lender": LENDER,
        "lender_account": lender_account,
        "registration_ref": "中登网 2026-12-000731",
        "loan_amount": 2_000_000_00,
        "expires_at": (datetime.now(UTC) + timedelta(days=365)).isoformat(),
    } | terms


async def test_future_issuances_land_in_the_lenders_pledge_until_enforced(
    s: Slice, platform: Platform
) -> None:
    farm, bank = await open_account(s, DEVELOPER), await open_account(s, LENDER)
    developer = platform.token(DEVELOPER, "account_holder")
    lender = platform.token(LENDER, "member")
    stranger = platform.token("ENT-X", "account_holder")

    assert (
        await post(s, "/v1/project-pledges", pledge_body(farm, bank, share_percent=40), stranger)
    ).status_code == 404
    mismatch = await post(
        s, "/v1/project-pledges", pledge_body(farm, farm, share_percent=40), developer
    )
    assert slug(mismatch) == "lender-account-mismatch"
    neither = await post(s, "/v1/project-pledges", pledge_body(farm, bank), developer)
    assert neither.status_code == 422
    made = await post(
        s, "/v1/project-pledges", pledge_body(farm, bank, share_percent=40, quantity=50), developer
    )
    assert made.status_code == 201, made.text
    pledge = made.json()["id"]

    await issue(s, farm, 2024, 100)  # 40 % of 100 → 40 pledged
    first = await holdings(s, farm)
    assert (first["available"], first["held"]) == (60, 40)
    await issue(s, farm, 2025, 100)  # 40 % again, but only 10 left of the 50 pledged
    await issue(s, farm, 2025, 20)  # the pledged quantity is reached: nothing more
    view = await holdings(s, farm)
    assert (view["available"], view["held"], view["held_for"]) == (170, 50, {"pledge": 50})
    found = (await s.registry.get(f"/v1/holds?reference={pledge}", headers=lender)).json()
    assert sorted(h["quantity"] for h in found) == [10, 40]
    assert all(h["purpose"] == "pledge" and h["holder"] == LENDER for h in found)
    got = (await s.registry.get(f"/v1/project-pledges/{pledge}", headers=developer)).json()
    assert (got["pledged"], got["status"]) == (50, "active")
    assert (
        await s.registry.get(f"/v1/project-pledges/{pledge}", headers=stranger)
    ).status_code == 404

    # Pledged units can be neither transferred nor retired (only the 170 free units can).
    too_many = {"from_account": farm, "to_account": bank, "quantity": 171}
    assert (await post(s, "/v1/transfers", too_many, developer)).status_code == 409

    assert (await post(s, f"/v1/project-pledges/{pledge}/enforce", {}, stranger)).status_code == 404
    enforced = await post(s, f"/v1/project-pledges/{pledge}/enforce", {}, lender)
    assert enforced.status_code == 200 and enforced.json()["status"] == "enforced"
    assert (await holdings(s, bank))["available"] == 50
    assert (await holdings(s, farm))["held"] == 0
    assert (
        slug(await post(s, f"/v1/project-pledges/{pledge}/release", {}, lender)) == "pledge-closed"
    )

    # An enforced pledge takes later issuances' shares straight to the lender.
    second = (
        await post(s, "/v1/project-pledges", pledge_body(farm, bank, share_percent=10), developer)
    ).json()["id"]
    assert (await post(s, f"/v1/project-pledges/{second}/enforce", {}, lender)).status_code == 200
    await issue(s, farm, 2025, 30)
    assert (await holdings(s, bank))["available"] == 53
    # A released pledge leaves later issuances alone.
    third = (
        await post(s, "/v1/project-pledges", pledge_body(farm, bank, share_percent=50), developer)
    ).json()["id"]
    assert (await post(s, f"/v1/project-pledges/{third}/release", {}, lender)).status_code == 200
    before = (await holdings(s, farm))["total"]
    await issue(s, farm, 2025, 10)  # the enforced 10 % pledge still takes 1
    assert (await holdings(s, farm))["total"] == before + 9
    report = await rebuild(s.app.state.runtime.store, dry_run=True)  # type: ignore[attr-defined]
    assert report.ok, report.differing
