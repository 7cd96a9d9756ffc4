"""The transparency log over a real event log (libs/transparency/log_tree.py): its roots and
proofs are those of the plain RFC 9162 tree over every event's hash, at every size, as the log
grows across and between the chunks it keeps in memory."""

from __future__ import annotations

import random

import pytest

from libs.events.store import EventStore
from libs.transparency import merkle
from libs.transparency.log_tree import CHUNK, LogTree, NotInTree
from libs.transparency.store import event_hashes
from tests.integration.events import Counted


async def grow(store: EventStore, count: int) -> None:
    async with store.transaction() as tx:
        await tx.append(f"thing/{random.random()}", 0, [Counted(n=n) for n in range(count)])


async def test_roots_and_proofs_equal_the_plain_trees_as_the_log_grows(store: EventStore) -> None:
    tree, rng = LogTree(), random.Random(9162)
    assert await tree.size(store.pool) == 0
    assert await tree.root(store.pool, 0) == merkle.EMPTY_ROOT
    for count in (3, CHUNK - 4, 2 * CHUNK + 7, CHUNK + 1):  # 2·CHUNK + 1 … 4·CHUNK + 7 entries
        await grow(store, count)
        size = await tree.size(store.pool)
        leaves = [merkle.leaf_hash(h) for h in await event_hashes(store.pool, 1, size)]
        model = merkle.range_hash_of(leaves)
        for _ in range(12):
            first = rng.randint(1, size)
            assert await tree.root(store.pool, first) == merkle.root(first, model)
            index = rng.randrange(first)
            path = await tree.inclusion(store.pool, index, first)
            assert path == merkle.inclusion_proof(index, first, model)
            assert await tree.leaf(store.pool, index) == leaves[index]
            second = rng.randint(first, size)
            proof = await tree.consistency(store.pool, first, second)
            assert proof == merkle.consistency_proof(first, second, model)
            assert merkle.verify_consistency(
                first, second, proof, merkle.root(first, model), merkle.root(second, model)
            )
    with pytest.raises(NotInTree):
        await tree.root(store.pool, size + 1)
