"""A service's event log as an RFC 9162 Merkle tree: its roots and proofs, read from the log.

Entry `i` of the tree is the event of sequence `i + 1` (its `hash`, 32 bytes). The tree is a
function of the log, so nothing is stored: each process keeps in memory the hashes of the
tree's complete subtrees of `CHUNK` entries and more (two per `CHUNK` entries: ~8,000 for a
million events), extended from the log when asked, and reads the few entries a proof needs
below that size — those of at most two chunks, around the entry or the sizes in question.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from libs.events.store import Queryable
from libs.transparency import merkle, store

CHUNK = 256  # entries under the smallest subtree kept in memory (a power of two)
LEVEL = CHUNK.bit_length() - 1
PAGE = 100 * CHUNK  # entries read and hashed per step while extending (~50 ms of hashing)


class NotInTree(Exception):
    """A size or an entry beyond the log's present end."""


class LogTree:
    def __init__(self) -> None:
        self._nodes: dict[tuple[int, int], bytes] = {}  # (level ≥ LEVEL, index) → hash
        self._chunks = 0  # complete chunks hashed into `_nodes`
        self._lock = asyncio.Lock()

    async def size(self, conn: Queryable) -> int:
        """The log's present size, with the tree's memory brought up to it."""
        size = await store.head(conn)
        async with self._lock:
            while self._chunks < size // CHUNK:
                await self._extend(conn, size // CHUNK)
        return size

    async def root(self, conn: Queryable, size: int) -> bytes:
        if size == 0:  # an empty log (a service that has written nothing yet)
            return merkle.EMPTY_ROOT
        return merkle.root(size, await self._source(conn, size, [size - 1]))

    async def inclusion(self, conn: Queryable, index: int, size: int) -> list[bytes]:
        subtree = await self._source(conn, size, [index, size - 1])
        return merkle.inclusion_proof(index, size, subtree)

    async def consistency(self, conn: Queryable, first: int, second: int) -> list[bytes]:
        subtree = await self._source(conn, second, [first - 1, second - 1])
        return merkle.consistency_proof(first, second, subtree)

    async def leaf(self, conn: Queryable, index: int) -> bytes:
        (entry,) = await store.event_hashes(conn, index + 1, index + 1)
        return merkle.leaf_hash(entry)

    async def _extend(self, conn: Queryable, chunks: int) -> None:
        """Hash up to a page of complete chunks past those in memory."""
        last = min(chunks, self._chunks + PAGE // CHUNK)
        entries = await store.event_hashes(conn, self._chunks * CHUNK + 1, last * CHUNK)
        leaves = [merkle.leaf_hash(e) for e in entries]
        for chunk in range(self._chunks, last):
            offset = (chunk - self._chunks) * CHUNK
            self._add(
                LEVEL,
                chunk,
                merkle.root(CHUNK, merkle.range_hash_of(leaves[offset : offset + CHUNK])),
            )
        self._chunks = last
        await asyncio.sleep(0)  # a long log is hashed in steps: other requests go between

    def _add(self, level: int, index: int, value: bytes) -> None:
        """A complete subtree, and each complete subtree above it that it completes."""
        self._nodes[(level, index)] = value
        while index & 1:
            value = merkle.node_hash(self._nodes[(level, index - 1)], value)
            level, index = level + 1, index >> 1
            self._nodes[(level, index)] = value

    async def _source(self, conn: Queryable, size: int, edges: Iterable[int]) -> merkle.RangeHash:
        """Subtree hashes for a tree of `size` entries whose proofs touch the entries `edges`:
        those in memory, and the entries of the (at most two) chunks holding the edges."""
        if size < 1 or size > await self.size(conn):
            raise NotInTree(f"the log has no tree of {size} entries")
        chunks: dict[int, list[bytes]] = {}
        for chunk in sorted({edge // CHUNK for edge in edges if 0 <= edge < size}):
            first = chunk * CHUNK
            entries = await store.event_hashes(conn, first + 1, min(first + CHUNK, size))
            chunks[chunk] = [merkle.leaf_hash(e) for e in entries]

        def subtree(start: int, end: int) -> bytes:
            width = end - start
            if width >= CHUNK and width & (width - 1) == 0 and start % width == 0:
                return self._nodes[(width.bit_length() - 1, start // width)]
            if start // CHUNK == (end - 1) // CHUNK:
                first = start - start % CHUNK
                return merkle.range_hash_of(chunks[start // CHUNK])(start - first, end - first)
            middle = start + merkle.split_point(width)
            return merkle.node_hash(subtree(start, middle), subtree(middle, end))

        return subtree
