"""Two registry replicas on one database (prod runs three): the log serializes them."""

from __future__ import annotations

import asyncio
import random
from typing import Any

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


async def test_a_replica_never_trusts_the_blocks_it_kept_once_the_other_has_written(
    platform: Platform, topics: str
) -> None:
    """Each replica starts a transaction from the blocks its last one committed. Here the
    first keeps account A's blocks in memory, the second then moves all of them away: the
    first's next transfer from A starts from blocks that no longer exist, collides with the
    second's events when it writes, and re-runs on the database — where A is empty (409)."""
    settings = await platform.settings("registry", topics, relay_enabled=False)
    replica = settings.model_copy(update={"consumers_enabled": False})
    first, second = create_app(settings), create_app(replica)  # type: ignore[arg-type]
    admin = platform.token("ORG-REGISTRY", "registry_admin")
    async with running(first) as one, running(second) as two:
        store = first.state.runtime.store
        a, b, c = [
            (
                await one.post("/v1/accounts", json={"owner": "ORG-K", "name": n}, headers=admin)
            ).json()["id"]
            for n in "abc"
        ]
        issuance = {"program": "YRDPH", "project": "QP0004", "vintage": 2024, "quantity": 30,
                    "account": a}  # fmt: skip
        assert (await one.post("/v1/issuances", json=issuance, headers=admin)).status_code == 201

        async def transfer(client: Any, source: str, target: str, quantity: int) -> Any:
            body = {"from_account": source, "to_account": target, "quantity": quantity}
            return await client.post("/v1/transfers", json=body, headers=admin)

        used = store.kept_used
        assert (await transfer(one, a, b, 5)).status_code == 201
        assert store.kept_used == used + 1  # built on the book the issuance committed
        assert store.kept_at("registry.book") == await store.head()
        assert (await transfer(two, a, c, 25)).status_code == 201  # A is empty now
        reruns = writer.STATS["pessimistic_reruns"]
        refused = await transfer(one, a, b, 1)
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"].endswith("insufficient-units")
        assert store.kept_used == used + 2  # the stale book was taken…
        assert writer.STATS["pessimistic_reruns"] == reruns + 1  # …and its attempt discarded
        # The re-run was refused and committed nothing, so nothing was kept: the next transfer
        # reads from the database, and the one after builds on the book it committed.
        assert (await transfer(one, b, c, 5)).status_code == 201
        assert store.kept_used == used + 2
        assert (await transfer(one, c, b, 1)).status_code == 201
        assert store.kept_used == used + 3
        holdings = {}
        for account in (a, b, c):
            response = await two.get(f"/v1/accounts/{account}/holdings", headers=admin)
            holdings[account] = response.json()["total"]
        assert holdings == {a: 0, b: 1, c: 29}
        report = await verify(store)
        assert report.ok, report.problems
