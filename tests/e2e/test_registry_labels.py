"""Carbon labels (碳标签): issued on one's own `carbon_label` retirement up to its tonnes, never
more (also when issued at once), revoked, and verified in public — JSON and the portal page
with its QR code, in both languages."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.conftest import Platform
from tests.e2e.conftest import Slice
from tests.e2e.test_registry_points import post, retirement, slug

OWNER = "FOOD-RICE-01"


def label(retirement_id: str, units: int, offset: str, **more: Any) -> dict[str, Any]:
    return {
        "product": "青浦有机大米 Qingpu organic rice",
        "product_batch": "2026-11-A",
        "functional_unit": "一袋 5 千克 / a 5 kg bag",
        "units_covered": units,
        "footprint_kg_per_unit": "-1.25",
        "offset_kg_per_unit": offset,
        "valid_from": "2026-12-01",
        "valid_to": "2027-11-30",
        "retirement_id": retirement_id,
    } | more


async def test_labels_claim_at_most_their_retirement_and_are_verified_in_public(
    s: Slice, platform: Platform
) -> None:
    owner = platform.token(OWNER, "account_holder")
    backing = await retirement(s, platform, OWNER, 2, "carbon_label")  # 2,000 kg
    other_purpose = await retirement(s, platform, "FOOD-RICE-02", 1, "voluntary_offset")
    someone_elses = await retirement(s, platform, "FOOD-RICE-03", 1, "carbon_label")

    first = await post(s, "/v1/labels", label(backing, 4000, "0.35"), owner)  # 1,400 kg
    assert first.status_code == 201, first.text
    issued = first.json()
    assert issued["claimed_kg"] == "1400" and issued["code"].startswith("CL-")
    refusals = [
        (
            await post(s, "/v1/labels", label(backing, 1000, "0.601"), owner),
            409,
            "label-over-claimed",
        ),
        (
            await post(s, "/v1/labels", label(other_purpose, 1, "1"), owner),
            409,
            "label-not-eligible",
        ),
        (
            await post(s, "/v1/labels", label(someone_elses, 1, "1"), owner),
            409,
            "label-not-eligible",
        ),
        (await post(s, "/v1/labels", label("RET-NONE", 1, "1"), owner), 404, "unknown-retirement"),
        (
            await post(s, "/v1/labels", label(backing, 1, "1", valid_to="2026-01-01"), owner),
            422,
            "validation-failed",
        ),
    ]
    for response, status, cause in refusals:
        assert (response.status_code, slug(response)) == (status, cause), response.text

    # Five labels of 150 kg at once on the 600 kg left: four fit, never five.
    answers = await asyncio.gather(
        *(
            post(s, "/v1/labels", label(backing, 150, "1", product_batch=f"B{n}"), owner)
            for n in range(5)
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 201, 201, 201, 409]

    code = issued["code"]
    stranger = platform.token("ENT-STRANGER", "account_holder")
    revoke = f"/v1/labels/{code}/revoke"
    assert (await post(s, revoke, {"reason": "x"}, stranger)).status_code == 404
    revoked = await post(s, revoke, {"reason": "包装更换 packaging changed"}, owner)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert slug(await post(s, revoke, {"reason": "again"}, owner)) == "label-revoked"
    # A revoked label's claim stays counted: nothing is left to claim.
    assert slug(await post(s, "/v1/labels", label(backing, 1, "1"), owner)) == "label-over-claimed"

    # The backing retirement is joined when read: its event is another stream (maybe another
    # partition) and may be consumed after the label's revocation.
    public = await _eventually(
        s,
        f"/v1/public/labels/{code}",
        lambda v: v["status"] == "revoked" and v["retirement"] is not None,
    )
    assert (
        public["retirement"]["id"] == backing and public["retirement"]["purpose"] == "carbon_label"
    )
    assert (public["footprint_kg_per_unit"], public["offset_kg_per_unit"]) == ("-1.25", "0.35")
    live = answers[0].json()["code"] if answers[0].status_code == 201 else answers[1].json()["code"]
    shown = await _eventually(s, f"/v1/public/labels/{live}", lambda v: v["retirement"] is not None)
    assert shown["status"] == "valid"
    serial = shown["retirement"]["blocks"][0]["serial"]
    for prefix, words in (("", "碳标签"), ("/en", "Carbon label")):
        page = await s.disclosure.get(f"{prefix}/labels/{live}")
        assert page.status_code == 200
        assert words in page.text and "<svg" in page.text and f"/serials/{serial}" in page.text
    assert (await s.disclosure.get("/labels/CL-nothing")).status_code == 404


async def _eventually(s: Slice, path: str, done: Any) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while True:
            got: httpx.Response = await s.disclosure.get(path)
            if got.status_code == 200 and done(got.json()):
                return got.json()  # type: ignore[no-any-return]
            await asyncio.sleep(0.1)
