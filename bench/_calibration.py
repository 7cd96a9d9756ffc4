"""The VM's speed at the moment, in milliseconds: a fixed piece of the registry's own Python
(10,000 one-unit moves through a `Book`, best of 3). About 65–75 ms in a normal period of the
2-core development VM; it moves by ±30% and more between runs (and within one). Every
benchmark reports it beside its figures, so a reader knows which kind of period they met."""

from __future__ import annotations

import random
import time

from services.registry.domain import ledger
from services.registry.domain.book import Book


def cpu_calibration() -> float:
    best = float("inf")
    for _ in range(3):
        book = Book()
        accounts = [f"ACC-{i:06d}" for i in range(1000)]
        for i, account in enumerate(accounts):
            batch = f"YRDPH-15-QP{i % 100:04d}-2024-{i:03d}"
            book.add_read(ledger.Holding(batch, 1, 1_000_000, account, "available", 2024))
            book.mark_account_loaded(account)
            book.settle([(batch, 0)], [(batch, 1_000_001)])
        rng = random.Random(5)
        pairs = [rng.sample(accounts, 2) for _ in range(10_000)]
        started = time.perf_counter()
        for source, target in pairs:
            takes = ledger.take_in_order(book.available(source), 1)
            book.apply([ledger.split(take, target, "available") for take in takes])
        book.changes()
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)
