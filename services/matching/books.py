"""Each instrument's continuous book kept in memory between commands (services/matching/orders.py).

A cached book is current only while it carries the version token the instrument's row holds:
another process's change, or a transaction that failed after changing the book, makes the next
command rebuild it from the open orders in arrival order — the same book, since resting orders
never cross.
"""

from __future__ import annotations

import uuid

from libs.events.store import EventTransaction
from services.matching import orders_store
from services.matching.domain.book import Order, OrderBook


class Books:
    """Each instrument's book with the version token it was last written with."""

    def __init__(self) -> None:
        self._books: dict[str, tuple[str, OrderBook]] = {}

    async def take(self, tx: EventTransaction, instrument_id: str) -> OrderBook:
        """The current book, locked for the transaction and taken out of the cache: `put`
        returns it once changed (a failure in between leaves the cache without it)."""
        version = await orders_store.lock_book(tx, instrument_id)
        cached = self._books.pop(instrument_id, None)
        if cached is not None and cached[0] == version:
            return cached[1]
        book = OrderBook()
        for row in await orders_store.open_orders(tx, instrument_id):
            book.submit(
                Order(
                    row["id"], row["member"], row["side"], row["remaining"], "limit", row["price"]
                )
            )
        return book

    async def put(self, tx: EventTransaction, instrument_id: str, book: OrderBook) -> None:
        version = uuid.uuid4().hex
        await orders_store.set_book_version(tx, instrument_id, version)
        self._books[instrument_id] = (version, book)
