"""The simulator's own small store: cash accounts, reservations and settlements in SQLite.

Amounts are integer fen. An account's `reserved` is what its active reservations have not
used yet; `available` is its balance less that. Every operation is keyed by an id the caller
chooses, so repeating one returns the first answer; the same id with other terms is refused.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, balance INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS deposits (
    id TEXT PRIMARY KEY, account TEXT NOT NULL, amount INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS reservations (
    id TEXT PRIMARY KEY, account TEXT NOT NULL, amount INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settlements (
    id TEXT PRIMARY KEY, reservation TEXT, from_account TEXT, to_account TEXT,
    amount INTEGER, status TEXT NOT NULL
);
"""


class Refused(Exception):
    """A refusal the contract names: `slug` is the problem type's last part."""

    def __init__(self, status: int, slug: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.slug, self.detail = status, slug, detail


@dataclass
class Ledger:
    path: Path | str

    def __post_init__(self) -> None:
        self.db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        # Durable across a crash of the simulator's process (WAL); not fsynced on every
        # statement, which a simulator does not need.
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def _one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute(sql, args).fetchone()
        return row

    # -- accounts ------------------------------------------------------------------------------

    def open_account(self, account: str, owner: str) -> tuple[dict[str, Any], bool]:
        existing = self._one("SELECT owner FROM accounts WHERE id = ?", account)
        if existing is not None:
            if existing["owner"] != owner:
                raise Refused(409, "account-exists", f"{account} belongs to another owner")
            return self.account(account), False
        self.db.execute("INSERT INTO accounts (id, owner) VALUES (?, ?)", (account, owner))
        return self.account(account), True

    def account(self, account: str) -> dict[str, Any]:
        row = self._one("SELECT id, owner, balance FROM accounts WHERE id = ?", account)
        if row is None:
            raise Refused(404, "unknown-cash-account", f"no cash account {account}")
        reserved = self._one(
            "SELECT coalesce(sum(amount - used), 0) AS r FROM reservations"
            " WHERE account = ? AND status = 'active'",
            account,
        )
        held = reserved["r"] if reserved else 0
        return {
            "id": row["id"],
            "owner": row["owner"],
            "balance": row["balance"],
            "reserved": held,
            "available": row["balance"] - held,
        }

    def deposit(self, deposit_id: str, account: str, amount: int) -> dict[str, Any]:
        self.account(account)
        done = self._one("SELECT account, amount FROM deposits WHERE id = ?", deposit_id)
        if done is not None:
            if (done["account"], done["amount"]) != (account, amount):
                raise Refused(409, "key-reused", f"deposit {deposit_id} had other terms")
            return self.account(account)
        with self._tx():
            self.db.execute("INSERT INTO deposits VALUES (?, ?, ?)", (deposit_id, account, amount))
            self.db.execute(
                "UPDATE accounts SET balance = balance + ? WHERE id = ?", (amount, account)
            )
        return self.account(account)

    # -- reservations --------------------------------------------------------------------------

    def reserve(self, reservation: str, account: str, amount: int) -> tuple[dict[str, Any], bool]:
        done = self._reservation(reservation)
        if done is not None:
            if (done["account"], done["amount"]) != (account, amount):
                raise Refused(409, "key-reused", f"reservation {reservation} had other terms")
            return done, False
        available = self.account(account)["available"]
        if available < amount:
            raise Refused(
                409, "insufficient-funds", f"{amount} fen wanted, {available} fen available"
            )
        self.db.execute(
            "INSERT INTO reservations (id, account, amount, status) VALUES (?, ?, ?, 'active')",
            (reservation, account, amount),
        )
        return self._reservation_or_404(reservation), True

    def release(self, reservation: str) -> dict[str, Any]:
        self._reservation_or_404(reservation)
        self.db.execute("UPDATE reservations SET status = 'released' WHERE id = ?", (reservation,))
        return self._reservation_or_404(reservation)

    def _reservation(self, reservation: str) -> dict[str, Any] | None:
        row = self._one("SELECT * FROM reservations WHERE id = ?", reservation)
        if row is None:
            return None
        view = dict(row)
        view["remaining"] = view["amount"] - view["used"] if view["status"] == "active" else 0
        return view

    def _reservation_or_404(self, reservation: str) -> dict[str, Any]:
        view = self._reservation(reservation)
        if view is None:
            raise Refused(404, "unknown-reservation", f"no reservation {reservation}")
        return view

    # -- settlements ---------------------------------------------------------------------------

    def settle(
        self, settlement: str, reservation: str, to_account: str, amount: int
    ) -> tuple[dict[str, Any], bool]:
        done = self._settlement(settlement)
        if done is not None:
            if done["status"] == "voided":
                raise Refused(409, "settlement-voided", f"settlement {settlement} was voided")
            if (done["reservation"], done["to_account"], done["amount"]) != (
                reservation,
                to_account,
                amount,
            ):
                raise Refused(409, "key-reused", f"settlement {settlement} had other terms")
            return done, False
        source = self._reservation_or_404(reservation)
        self.account(to_account)
        if source["remaining"] < amount:
            raise Refused(
                409,
                "insufficient-reservation",
                f"{amount} fen wanted, the reservation has {source['remaining']} fen left",
            )
        with self._tx():
            self.db.execute(
                "UPDATE reservations SET used = used + ? WHERE id = ?", (amount, reservation)
            )
            self.db.execute(
                "UPDATE accounts SET balance = balance - ? WHERE id = ?",
                (amount, source["account"]),
            )
            self.db.execute(
                "UPDATE accounts SET balance = balance + ? WHERE id = ?", (amount, to_account)
            )
            self.db.execute(
                "INSERT INTO settlements VALUES (?, ?, ?, ?, ?, 'settled')",
                (settlement, reservation, source["account"], to_account, amount),
            )
        return self._settlement_or_404(settlement), True

    def void(self, settlement: str) -> dict[str, Any]:
        """Make sure `settlement` never happens: a tombstone if it has not; refused if it has."""
        done = self._settlement(settlement)
        if done is not None and done["status"] == "settled":
            raise Refused(409, "already-settled", f"settlement {settlement} is settled")
        if done is None:
            self.db.execute(
                "INSERT INTO settlements (id, status) VALUES (?, 'voided')", (settlement,)
            )
        return self._settlement_or_404(settlement)

    def _settlement(self, settlement: str) -> dict[str, Any] | None:
        row = self._one("SELECT * FROM settlements WHERE id = ?", settlement)
        return dict(row) if row is not None else None

    def _settlement_or_404(self, settlement: str) -> dict[str, Any]:
        view = self._settlement(settlement)
        if view is None:
            raise Refused(404, "unknown-settlement", f"no settlement {settlement}")
        return view

    def settlement(self, settlement: str) -> dict[str, Any]:
        return self._settlement_or_404(settlement)

    def reservation(self, reservation: str) -> dict[str, Any]:
        return self._reservation_or_404(reservation)

    @contextmanager
    def _tx(self) -> Iterator[None]:
        """The statements inside run in one transaction."""
        self.db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
