"""Carbon points' unit of work: the batch's points state read at once, decided on in memory,
written at the flush.

The first points command of a writer batch reads, in one round trip, the schemes, balances and
backings every points command of the batch named (`PointsHint`, given with each request to the
writer). Commands then decide on the `PointsLedger` in memory and apply their changes there;
the flush writes the changed schemes and balances as they now stand, and the new backings, as
parts of the batch's one statement (statement entries are deferred as each event is recorded).

No row is read `FOR UPDATE`: as for the registry's blocks (README, "Set-wise path"), every
change to these tables appends to the log in the same transaction, and a transaction commits
only on the head it read at — an optimistic one collides on the sequence if anybody wrote
since, and re-runs under the log lock, which a pessimistic one holds before its first read.
So concurrent mints cannot overshoot the backing nor spends overdraw a balance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from libs.events.store import EventTransaction
from libs.events.unit_of_work import Deferrals
from services.registry import points_store
from services.registry.domain.points import Change, PointsLedger, Scheme

_KEY = "registry.points"


@dataclass(frozen=True, slots=True)
class PointsHint:
    """What a points command will read: a scheme, holders' balances in it, retirements."""

    scheme: str
    holders: tuple[str, ...] = ()
    retirements: tuple[str, ...] = ()


class PointsWork:
    def __init__(self) -> None:
        self.ledger = PointsLedger()
        self._hints_read = False
        self._changed_schemes: set[str] = set()
        self._changed_balances: set[tuple[str, str]] = set()
        self._new_backings: list[tuple[str, str, int]] = []

    async def read(self, tx: EventTransaction, hint: PointsHint) -> PointsLedger:
        """The ledger, with what `hint` names read (and on the batch's first read, what every
        hinted points command of the batch names)."""
        hints = [hint]
        if not self._hints_read:
            self._hints_read = True
            hints += [h for h in tx.hints if isinstance(h, PointsHint)]
        ledger = self.ledger
        schemes = {h.scheme for h in hints} - ledger.schemes.keys()
        balances = {(h.scheme, holder) for h in hints for holder in h.holders}
        balances -= ledger.balances.keys()
        retirements = {r for h in hints for r in h.retirements} - ledger.backings.keys()
        if schemes or balances or retirements:
            await self._read(tx, sorted(schemes), sorted(balances), sorted(retirements))
        return ledger

    async def _read(
        self,
        tx: EventTransaction,
        schemes: Sequence[str],
        balances: Sequence[tuple[str, str]],
        retirements: Sequence[str],
    ) -> None:
        found = await points_store.read_state(tx, schemes, balances, retirements)
        scheme_rows, balance_rows, backing_rows = found
        ledger = self.ledger
        ledger.schemes.update(dict.fromkeys(schemes))
        ledger.schemes.update((row["id"], Scheme(**row)) for row in scheme_rows)
        ledger.balances.update(dict.fromkeys(balances, 0))
        ledger.balances.update(((r["scheme_id"], r["holder"]), r["points"]) for r in balance_rows)
        ledger.backings.update(dict.fromkeys(retirements))
        ledger.backings.update((r["retirement_id"], r["scheme_id"]) for r in backing_rows)

    # -- changes, written at the flush -------------------------------------------------------

    def create(self, scheme: Scheme) -> None:
        self.ledger.create(scheme)
        self._changed_schemes.add(scheme.id)

    def add_backing(self, scheme_id: str, retirement: str, points: int) -> None:
        self.ledger.add_backing(scheme_id, retirement, points)
        self._changed_schemes.add(scheme_id)
        self._new_backings.append((retirement, scheme_id, points))

    def apply(self, tx: EventTransaction, change: Change, sequence: int) -> None:
        """`change`, recorded by the event at `sequence`: in the ledger, and on the holders'
        statements."""
        self.ledger.apply(change)
        self._changed_schemes.add(change.scheme_id)
        self._changed_balances.update((change.scheme_id, h) for h in change.deltas)
        tx.defer_rows(points_store.ENTRIES, list(points_store.entry_rows(sequence, change)))

    def flush(self, tx: Deferrals) -> None:
        ledger = self.ledger
        schemes = [ledger.scheme(s) for s in sorted(self._changed_schemes)]
        tx.defer_rows(points_store.SCHEMES, [points_store.scheme_row(s) for s in schemes])
        balances = sorted(self._changed_balances)
        tx.defer_rows(points_store.BALANCES, [(*k, ledger.balances[k]) for k in balances])
        tx.defer_rows(points_store.BACKINGS, self._new_backings)
        self._changed_schemes, self._changed_balances, self._new_backings = set(), set(), []

    def kept(self) -> None:
        return None  # read again by the next batch: one round trip for all of it


def points_work(tx: EventTransaction) -> PointsWork:
    return tx.work(_KEY, PointsWork)
