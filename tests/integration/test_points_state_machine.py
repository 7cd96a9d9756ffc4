"""Carbon points (碳积分) against a simple model: a hypothesis state machine drives the
registry's HTTP API — backings, mints, transfers, redemptions, alone and concurrently.

After every step: the scheme's backing, minted, redeemed and outstanding points equal the
model's; a backed scheme never minted more than its backing (a redeemed point's kilogram stays
used); every holder's balance equals the model's and the balances add up to the outstanding
points (transfers conserve points). Concurrent mints never overshoot and concurrent spends
never overdraw: every refusal among them is one no later state could have accepted. At the end
of each run, `rebuild` replays the log into the same points tables.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from services.registry.app import create_app
from services.registry.rebuild import rebuild
from tests.conftest import Platform

OPERATOR = "OPR-GREEN"
HOLDERS = ["H-0", "H-1", "ORG-2"]


class PointsMachine(RuleBasedStateMachine):
    platform: Platform  # set by the test below

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.backing = self.minted = self.redeemed = 0
        self.balances = dict.fromkeys(HOLDERS, 0)
        self.retirements = 0

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    @initialize()
    def start(self) -> None:
        settings_ = self.run(
            self.platform.settings("registry", "pts.", relay_enabled=False, consumers_enabled=False)
        )
        self.app = create_app(settings_)  # type: ignore[arg-type]
        self.lifespan = self.app.router.lifespan_context(self.app)
        self.run(self.lifespan.__aenter__())
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://t"
        )
        self.admin = self.platform.token("ORG-REGISTRY", "registry_admin")
        self.operator = self.platform.token(OPERATOR, "account_holder")
        self.account = self.call(
            "/v1/accounts", {"owner": OPERATOR, "name": "绿色积分运营方"}, self.admin
        ).json()["id"]
        scheme = {"name": "示范区绿色积分", "operator": OPERATOR, "backed": True}
        self.scheme = self.call("/v1/points/schemes", scheme, self.admin).json()["id"]

    def teardown(self) -> None:
        if hasattr(self, "client"):
            report = self.run(rebuild(self.app.state.runtime.store, dry_run=True))
            assert report.ok, report.differing
            self.run(self.client.aclose())
            self.run(self.lifespan.__aexit__(None, None, None))
        self.loop.close()

    def call(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        response = self.run(self.client.post(path, json=body, headers=headers))
        assert response.status_code in (201, 409), (path, body, response.text)
        return response

    def at_once(self, path: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
        """The requests sent concurrently (the operator's), their answers in the same order."""

        async def together() -> list[httpx.Response]:
            posts = (self.client.post(path, json=b, headers=self.operator) for b in bodies)
            return list(await asyncio.gather(*posts))

        answers: list[httpx.Response] = self.run(together())
        return answers

    @rule(tonnes=st.integers(1, 3))
    def back(self, tonnes: int) -> None:
        issue = {"program": "YRDPH", "project": "QP0007", "vintage": 2024, "quantity": tonnes}
        self.call("/v1/issuances", issue | {"account": self.account}, self.admin)
        retire = {
            "account": self.account,
            "quantity": tonnes,
            "beneficiary": "积分背书",
            "purpose": "points_backing",
        }
        retirement = self.call("/v1/retirements", retire, self.operator).json()["id"]
        path = f"/v1/points/schemes/{self.scheme}/backings"
        assert self.call(path, {"retirement_id": retirement}, self.operator).status_code == 201
        self.backing += tonnes * 1000
        again = self.call(path, {"retirement_id": retirement}, self.operator)
        assert again.json()["type"].endswith("backing-used")  # each retirement backs once

    @rule(holder=st.sampled_from(HOLDERS), points=st.integers(1, 1500))
    def mint(self, holder: str, points: int) -> None:
        body = {"scheme": self.scheme, "to": holder, "points": points, "reason": "绿色出行"}
        minted = self.call("/v1/points/mint", body, self.operator)
        fits = self.minted + points <= self.backing
        assert minted.status_code == (201 if fits else 409), minted.text
        if fits:
            self.minted += points
            self.balances[holder] += points
        else:
            assert minted.json()["type"].endswith("points-backing-exceeded")

    @rule(
        source=st.sampled_from(HOLDERS),
        receiver=st.sampled_from(HOLDERS),
        points=st.integers(1, 800),
    )
    def transfer(self, source: str, receiver: str, points: int) -> None:
        if source == receiver:
            return
        body = {"scheme": self.scheme, "from": source, "to": receiver, "points": points}
        moved = self.call("/v1/points/transfers", body, self.operator)
        ok = points <= self.balances[source]
        assert moved.status_code == (201 if ok else 409), moved.text
        if ok:
            self.balances[source] -= points
            self.balances[receiver] += points

    @rule(holder=st.sampled_from(HOLDERS), points=st.integers(1, 800))
    def redeem(self, holder: str, points: int) -> None:
        body = {"scheme": self.scheme, "holder": holder, "points": points, "item": "公交卡充值"}
        spent = self.call("/v1/points/redemptions", body, self.operator)
        ok = points <= self.balances[holder]
        assert spent.status_code == (201 if ok else 409), spent.text
        if ok:
            self.balances[holder] -= points
            self.redeemed += points

    @rule(asks=st.lists(st.integers(1, 700), min_size=2, max_size=8))
    def mint_at_once(self, asks: list[int]) -> None:
        bodies = [
            {"scheme": self.scheme, "to": HOLDERS[n % 3], "points": p, "reason": "并发"}
            for n, p in enumerate(asks)
        ]
        answers = self.at_once("/v1/points/mint", bodies)
        for body, answer in zip(bodies, answers, strict=True):
            if answer.status_code == 201:
                self.minted += body["points"]
                self.balances[body["to"]] += body["points"]
        left = self.backing - self.minted
        assert left >= 0  # never overshoots
        for body, answer in zip(bodies, answers, strict=True):
            if answer.status_code != 201:
                assert answer.json()["type"].endswith("points-backing-exceeded")
                assert body["points"] > left  # refused only what could not fit

    @rule(
        source=st.sampled_from(HOLDERS), asks=st.lists(st.integers(1, 500), min_size=2, max_size=6)
    )
    def spend_at_once(self, source: str, asks: list[int]) -> None:
        target = HOLDERS[(HOLDERS.index(source) + 1) % 3]
        bodies = [{"scheme": self.scheme, "from": source, "to": target, "points": p} for p in asks]
        answers = self.at_once("/v1/points/transfers", bodies)
        for body, answer in zip(bodies, answers, strict=True):
            if answer.status_code == 201:
                self.balances[source] -= body["points"]
                self.balances[target] += body["points"]
        assert self.balances[source] >= 0  # never overdraws
        for body, answer in zip(bodies, answers, strict=True):
            if answer.status_code != 201:
                assert answer.json()["type"].endswith("insufficient-points")
                assert body["points"] > self.balances[source]

    @invariant()
    def the_scheme_and_every_balance_agree_with_the_model(self) -> None:
        if not hasattr(self, "client"):
            return
        view = self.run(self.client.get(f"/v1/points/schemes/{self.scheme}")).json()
        assert (view["backing_points"], view["minted"], view["redeemed"]) == (
            self.backing,
            self.minted,
            self.redeemed,
        )
        assert view["minted"] <= view["backing_points"]
        held = 0
        for holder in HOLDERS:
            path = f"/v1/points/schemes/{self.scheme}/holders/{holder}"
            statement = self.run(self.client.get(path, headers=self.operator)).json()
            assert statement["balance"] == self.balances[holder]
            assert sum(e["delta"] for e in statement["entries"]) == statement["balance"]
            held += statement["balance"]
        assert held == view["outstanding"] == self.minted - self.redeemed  # conserved


def test_points_behave_like_their_model(platform: Platform) -> None:
    PointsMachine.platform = platform
    PointsMachine.TestCase.settings = settings(
        max_examples=15,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    )
    PointsMachine.TestCase().runTest()
