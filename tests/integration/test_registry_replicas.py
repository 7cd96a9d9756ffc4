"""Two registry replicas on one database (prod runs three): the log serializes them."""

from __future__ import annotations

import asyncio
import random

from libs.events import writer
from services.registry.app import create_app
from services.registry.audit import verify
from tests.conftest import Platform, running


async def test_replicas_moving_the_same_units_keep_the_ledger_whole(
    platform: Platform, topics: str
) -> None:
    """Small transfers back and forth between three accounts, sent at once through two
    replicas: every one splits a block, most merge with a neighbour that another command in
    flight on the other replica may be changing (merge partners are read without row
    locks). Afterwards the replayed log equals the live state and the units are all there."""
    settings = await platform.settings("registry", topics, relay_enabled=False)
    replica = settings.model_copy(update={"consumers_enabled": False})
    first, second = create_app(settings), create_app(replica)  # type: ignore[arg-type]
    admin = platform.token("ORG-REGISTRY", "registry_admin")
    async with running(first) as one, running(second) as two:
        accounts = []
        for i in range(3):
            body = {"owner": f"ORG-{i}", "name": f"r{i}"}
            response = await one.post("/v1/accounts", json=body, headers=admin)
            accounts.append(response.json()["id"])
        issuance = {
            "program": "YRDPH",
            "project": "QP0003",
            "vintage": 2024,
            "quantity": 300,
            "account": accounts[0],
        }
        assert (await one.post("/v1/issuances", json=issuance, headers=admin)).status_code == 201
        rng = random.Random(5)
        moves = [(rng.sample(accounts, 2), rng.randint(1, 3)) for _ in range(160)]
        reruns_before = writer.STATS["pessimistic_reruns"]

        async def move(i: int) -> int:
            (source, target), quantity = moves[i]
            body = {"from_account": source, "to_account": target, "quantity": quantity}
            response = await (one, two)[i % 2].post("/v1/transfers", json=body, headers=admin)
            assert response.status_code in (201, 409), response.text
            return response.status_code

        codes = await asyncio.gather(*(move(i) for i in range(len(moves))))
        assert codes.count(201) > 100
        assert writer.STATS["pessimistic_reruns"] > reruns_before  # the replicas did collide
        report = await verify(first.state.runtime.store)
        assert report.ok, report.problems
        totals = []
        for account in accounts:
            response = await two.get(f"/v1/accounts/{account}/holdings", headers=admin)
            totals.append(response.json()["total"])
        assert sum(totals) == 300
