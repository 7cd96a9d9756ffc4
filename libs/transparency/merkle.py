"""RFC 9162 (Certificate Transparency 2.0) Merkle trees over a log: hashes, proofs, checks.

Pure: no I/O. A tree's entries are the log's events in sequence order; an entry's bytes are
its event's `hash` (32 bytes, which commits to the whole envelope). SHA-256 throughout, with
the RFC's domain separation: a leaf hashes `0x00 || entry`, an inner node `0x01 || left ||
right`, and the empty tree is the hash of nothing.

Proofs are computed over any source of subtree hashes (`RangeHash`: the hash of the entries
`[start, end)`), so a store may keep what it likes; `range_hash_of` is the plain one, over a
list of leaf hashes, which the tests use as the model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

# The hash of the entries [start, end) of the log (end > start).
RangeHash = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof was asked for sizes or an index the tree does not have."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(size: int) -> int:
    """The largest power of two smaller than `size` (size > 1): where RFC 9162 splits a tree."""
    return 1 << ((size - 1).bit_length() - 1)


def range_hash_of(leaves: Sequence[bytes]) -> RangeHash:
    """Subtree hashes straight from the leaf hashes, by the RFC's recursion."""

    def subtree(start: int, end: int) -> bytes:
        if end - start == 1:
            return leaves[start]
        middle = start + split_point(end - start)
        return node_hash(subtree(start, middle), subtree(middle, end))

    return subtree


def root(size: int, subtree: RangeHash) -> bytes:
    return subtree(0, size) if size else EMPTY_ROOT


def inclusion_proof(index: int, size: int, subtree: RangeHash) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 §2.1.3.1: the audit path, leaf side first."""
    if not 0 <= index < size:
        raise ProofError(f"entry {index} is not in a tree of {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        middle = start + split_point(end - start)
        if index < middle:
            path.append(subtree(middle, end))
            end = middle
        else:
            path.append(subtree(start, middle))
            start = middle
    path.reverse()
    return path


def consistency_proof(first: int, second: int, subtree: RangeHash) -> list[bytes]:
    """PROOF(first, D[second]) of RFC 9162 §2.1.4.1: that the tree of `first` entries is a
    prefix of the tree of `second`."""
    if not 0 < first <= second:
        raise ProofError(f"no consistency proof from {first} to {second}")
    proof: list[bytes] = []
    start, end, whole = 0, second, True
    # SUBPROOF(m, D[start:end], whole), unrolled: `first - start` entries of this range are
    # the old tree's.
    while first - start != end - start:
        middle = start + split_point(end - start)
        if first <= middle:
            proof.append(subtree(middle, end))
            end = middle
        else:
            proof.append(subtree(start, middle))
            start, whole = middle, False
    if not whole:
        proof.append(subtree(start, end))
    proof.reverse()
    return proof


def verify_inclusion(
    entry_hash: bytes, index: int, size: int, path: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: whether `path` proves the leaf `entry_hash` at `index` in the tree of
    `size` entries whose root is `expected_root`."""
    if not 0 <= index < size:
        return False
    fn, sn, result = index, size - 1, entry_hash
    for sibling in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and result == expected_root


def verify_consistency(
    first: int, second: int, proof: Sequence[bytes], first_root: bytes, second_root: bytes
) -> bool:
    """RFC 9162 §2.1.4.2: whether `proof` shows the tree of `first` entries (root
    `first_root`) to be a prefix of the tree of `second` entries (root `second_root`)."""
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the old root is a node of the new tree
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    old, new = path[0], path[0]
    for sibling in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            old, new = node_hash(sibling, old), node_hash(sibling, new)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            new = node_hash(new, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and old == first_root and new == second_root
