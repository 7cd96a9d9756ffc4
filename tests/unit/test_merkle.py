"""RFC 9162 Merkle trees (libs/transparency/merkle.py): every proof the tree gives verifies,
and any change to a proof, a leaf, a size or a root makes it fail."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.transparency import merkle


def leaves(count: int) -> list[bytes]:
    return [merkle.leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(count)]


def test_the_rfc_hashes_of_small_trees() -> None:
    assert merkle.EMPTY_ROOT.hex().startswith("e3b0c44298fc1c14")  # SHA-256 of nothing
    assert merkle.leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    three = leaves(3)
    expected = merkle.node_hash(merkle.node_hash(three[0], three[1]), three[2])
    assert merkle.root(3, merkle.range_hash_of(three)) == expected
    assert [merkle.split_point(n) for n in (2, 3, 4, 5, 8, 9)] == [1, 2, 2, 4, 4, 8]


sizes = st.integers(min_value=1, max_value=130)


@given(sizes, st.data())
def test_every_inclusion_proof_verifies_and_no_other_leaf_or_root_does(
    size: int, data: st.DataObject
) -> None:
    tree = leaves(size)
    subtree = merkle.range_hash_of(tree)
    head = merkle.root(size, subtree)
    index = data.draw(st.integers(0, size - 1))
    path = merkle.inclusion_proof(index, size, subtree)
    assert len(path) <= (size - 1).bit_length()
    assert merkle.verify_inclusion(tree[index], index, size, path, head)
    other = data.draw(st.integers(0, size - 1))
    if tree[other] != tree[index]:
        assert not merkle.verify_inclusion(tree[other], index, size, path, head)
    assert not merkle.verify_inclusion(tree[index], index, size, path, merkle.leaf_hash(b"x"))
    if path:
        position = data.draw(st.integers(0, len(path) - 1))
        bent = [*path[:position], merkle.leaf_hash(b"bent"), *path[position + 1 :]]
        assert not merkle.verify_inclusion(tree[index], index, size, bent, head)
        assert not merkle.verify_inclusion(tree[index], index, size, path[:-1], head)
    # The size is not checked against the root here: a checkpoint signs them together.


@given(sizes, st.data())
def test_every_consistency_proof_verifies_and_a_rewritten_history_does_not(
    second: int, data: st.DataObject
) -> None:
    tree = leaves(second)
    subtree = merkle.range_hash_of(tree)
    first = data.draw(st.integers(1, second))
    old, new = merkle.root(first, subtree), merkle.root(second, subtree)
    proof = merkle.consistency_proof(first, second, subtree)
    assert merkle.verify_consistency(first, second, proof, old, new)
    # The same sizes over a history with one entry changed: the old root no longer fits.
    changed = data.draw(st.integers(0, first - 1))
    forged = [*tree[:changed], merkle.leaf_hash(b"forged"), *tree[changed + 1 :]]
    forged_old = merkle.root(first, merkle.range_hash_of(forged))
    assert not merkle.verify_consistency(first, second, proof, forged_old, new)
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1))
        bent = [*proof[:position], merkle.leaf_hash(b"bent"), *proof[position + 1 :]]
        assert not merkle.verify_consistency(first, second, bent, old, new)


def test_proofs_outside_the_tree_are_refused() -> None:
    subtree = merkle.range_hash_of(leaves(4))
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_proof(4, 4, subtree)
    with pytest.raises(merkle.ProofError):
        merkle.consistency_proof(0, 4, subtree)
    with pytest.raises(merkle.ProofError):
        merkle.consistency_proof(5, 4, subtree)
    assert not merkle.verify_consistency(0, 4, [], merkle.EMPTY_ROOT, merkle.EMPTY_ROOT)
    assert merkle.consistency_proof(4, 4, subtree) == []
