"""The points ledger (pure) against a deliberately simple model: any sequence of backings, mints,
transfers and redemptions, by the operator or by anybody, is accepted exactly when the model
says it may be, a decision alone changes nothing, and the balances add up to the outstanding
points."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from libs.problems import Problem
from services.registry.domain.points import PointsLedger, Scheme

OPERATOR = "OPR"
HOLDERS = ["A", "B", "C"]
ACTORS = [OPERATOR, *HOLDERS, None]

operations = st.lists(
    st.one_of(
        st.tuples(st.just("back"), st.integers(1, 3)),
        st.tuples(st.just("mint"), st.sampled_from(ACTORS), st.sampled_from(HOLDERS),
                  st.integers(1, 600)),
        st.tuples(st.just("transfer"), st.sampled_from(ACTORS), st.sampled_from(HOLDERS),
                  st.sampled_from(HOLDERS), st.integers(1, 600)),
        st.tuples(st.just("redeem"), st.sampled_from(ACTORS), st.sampled_from(HOLDERS),
                  st.integers(1, 600)),
    ),
    min_size=5,
    max_size=50,
)  # fmt: skip


def fresh(backed: bool) -> PointsLedger:
    ledger = PointsLedger()
    ledger.create(Scheme("S", "scheme", OPERATOR, backed, 0, 0, 0))
    ledger.balances.update({("S", h): 0 for h in HOLDERS})
    return ledger


def snapshot(ledger: PointsLedger) -> tuple[object, ...]:
    return copy.deepcopy((ledger.schemes, ledger.balances, ledger.backings))


@settings(max_examples=400)
@given(operations, st.booleans())
def test_the_ledger_accepts_exactly_what_the_model_allows(ops: list[tuple], backed: bool) -> None:
    ledger = fresh(backed)
    backing = minted = redeemed = 0
    balances = dict.fromkeys(HOLDERS, 0)
    for n, op in enumerate(ops):
        kind, *args = op
        retirement = f"RET-{n}"
        ledger.backings[retirement] = None  # read: backs nothing yet
        before = snapshot(ledger)
        try:
            if kind == "back":
                ledger.check_backing("S", retirement, OPERATOR, "points_backing")
                ledger.add_backing("S", retirement, args[0] * 1_000)
                change = None
            elif kind == "mint":
                change = ledger.mint("S", args[0], args[1], args[2], f"M{n}")
            elif kind == "transfer":
                change = ledger.transfer("S", *args, f"T{n}")
            else:
                change = ledger.redeem("S", *args, f"R{n}")
        except Problem:
            refused = True
            assert snapshot(ledger) == before, "a refused decision changed the ledger"
        else:
            refused = False
            if change is not None:
                assert snapshot(ledger) == before, "a decision alone changed the ledger"
                ledger.apply(change)
        # The model's verdict on the same operation.
        if kind == "back":
            allowed = backed
            if allowed:
                backing += args[0] * 1_000
        elif kind == "mint":
            by, to, points = args
            allowed = by == OPERATOR and (not backed or minted + points <= backing)
            if allowed:
                minted += points
                balances[to] += points
        elif kind == "transfer":
            by, source, target, points = args
            allowed = source != target and by in (source, OPERATOR) and balances[source] >= points
            if allowed:
                balances[source] -= points
                balances[target] += points
        else:
            by, holder, points = args
            allowed = by in (holder, OPERATOR) and balances[holder] >= points
            if allowed:
                redeemed += points
                balances[holder] -= points
        assert refused == (not allowed), op
        scheme = ledger.scheme("S")
        assert (scheme.backing_points, scheme.minted, scheme.redeemed) == (
            backing,
            minted,
            redeemed,
        )
        assert {h: ledger.balance("S", h) for h in HOLDERS} == balances
        assert sum(balances.values()) == scheme.outstanding
        assert not backed or scheme.minted <= scheme.backing_points


def test_a_backing_is_used_once() -> None:
    ledger = fresh(True)
    ledger.backings["RET-1"] = None
    ledger.check_backing("S", "RET-1", OPERATOR, "points_backing")
    ledger.add_backing("S", "RET-1", 1_000)
    try:
        ledger.check_backing("S", "RET-1", OPERATOR, "points_backing")
    except Problem as exc:
        assert exc.slug == "backing-used"
    else:
        raise AssertionError("a retirement backed a scheme twice")
