"""The settlement simulator implements the contract matching's adapter is written against."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from simulators.settlement.app import create_app
from simulators.settlement.store import Ledger, Refused

CONTRACT = Path(__file__).resolve().parents[2] / "contracts" / "settlement-system.yaml"
SIMULATOR_ONLY = {("PUT", "/v1/faults"), ("DELETE", "/v1/faults"), ("GET", "/healthz")}


def operations(paths: dict[str, dict[str, object]]) -> set[tuple[str, str]]:
    verbs = {"get", "put", "post", "delete", "patch"}
    return {(verb.upper(), path) for path, item in paths.items() for verb in item if verb in verbs}


def test_the_simulator_serves_exactly_the_contracts_operations() -> None:
    contract = operations(yaml.safe_load(CONTRACT.read_text())["paths"])
    served = operations(create_app().openapi()["paths"]) - SIMULATOR_ONLY
    assert served == contract


def refusal(call: Callable[[], object]) -> str:
    with pytest.raises(Refused) as refused:
        call()
    return refused.value.slug


def test_a_void_wins_over_a_late_settlement_and_loses_to_a_done_one() -> None:
    ledger = Ledger(":memory:")
    ledger.open_account("B", "buyer")
    ledger.open_account("S", "seller")
    ledger.deposit("d1", "B", 1000)
    ledger.deposit("d1", "B", 1000)  # a repeated deposit counts once
    ledger.reserve("R1", "B", 600)
    assert ledger.account("B") == {
        "id": "B",
        "owner": "buyer",
        "balance": 1000,
        "reserved": 600,
        "available": 400,
    }
    assert refusal(lambda: ledger.reserve("R2", "B", 401)) == "insufficient-funds"
    assert refusal(lambda: ledger.reserve("R1", "B", 5)) == "key-reused"
    assert ledger.void("T1")["status"] == "voided"
    assert refusal(lambda: ledger.settle("T1", "R1", "S", 100)) == "settlement-voided"
    ledger.settle("T2", "R1", "S", 100)
    assert ledger.settle("T2", "R1", "S", 100)[1] is False  # a repeat moves nothing
    assert refusal(lambda: ledger.void("T2")) == "already-settled"
    assert refusal(lambda: ledger.settle("T3", "R1", "S", 501)) == "insufficient-reservation"
    assert (ledger.account("B")["balance"], ledger.account("S")["balance"]) == (900, 100)
    assert ledger.release("R1")["remaining"] == 0
    assert ledger.account("B")["reserved"] == 0
