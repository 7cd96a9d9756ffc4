"""The README's walkthroughs as a newcomer runs them — curl and jq against the platform as
`make run` starts it (here on free ports, beside any `make run`): from accounts and credits to
a settled listing trade, then a block trade and a one-way auction."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from libs.devstack.stack import Stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def platform_processes() -> AsyncIterator[Stack]:
    with tempfile.TemporaryDirectory(prefix="tanhui-walkthrough-") as tmp:
        stack = Stack.on_free_ports(Path(tmp))
        try:
            await asyncio.to_thread(stack.up)
            yield stack
        finally:
            await asyncio.to_thread(stack.down)


async def walk(stack: Stack, script: str) -> list[str]:
    urls = stack.urls()
    env = os.environ | {
        "TANHUI_CLI": str(Path(sys.executable).parent / "tanhui"),
        "TANHUI_STATE_DIR": str(stack.state_dir),
        "TANHUI_REGISTRY_URL": urls["registry"],
        "TANHUI_MATCHING_URL": urls["matching"],
        "TANHUI_SETTLEMENT_URL": stack.env["TANHUI_SETTLEMENT_URL"],
    }
    done = await asyncio.to_thread(
        subprocess.run,
        ["bash", f"docs/walkthroughs/{script}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout.splitlines()


async def test_the_readme_walkthroughs_end_in_settled_trades(platform_processes: Stack) -> None:
    first = await walk(platform_processes, "first-trade.sh")
    assert any(re.fullmatch(r"trade TRD-\S+: settled", line) for line in first), first
    assert '{"available":4,"held":0}' in first  # the buyer's registry holdings
    assert '{"id":"CASH-ENT-STEEL-01","balance":980000,"reserved":0}' in first
    assert '{"id":"CASH-COOP-QP-01","balance":20000,"reserved":0}' in first
    assert any('"close":5000,"volume":4,"turnover":20000' in line for line in first), first

    block = await walk(platform_processes, "block-and-auction.sh")
    settled = [line for line in block if '"status":"settled"' in line]
    assert any('"mode":"block"' in line for line in settled), block
    assert any('"mode":"auction"' in line for line in settled), block
