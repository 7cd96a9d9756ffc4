"""The settlement system simulator (simulators/settlement) as a process: `make run` starts it
on port 8005 with its store in the state directory; tests start their own on a free port."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from libs.devstack.processes import port_open, spawn, stop

SETTLEMENT_PORT = 8005


class SettlementSimulator:
    def __init__(self, state_dir: Path, port: int = SETTLEMENT_PORT) -> None:
        self.state_dir = state_dir
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20) -> str:
        if port_open(self.port):
            raise RuntimeError(f"port {self.port} for the settlement simulator is taken")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        args = [
            sys.executable,
            "-m",
            "simulators.settlement",
            "--port",
            str(self.port),
            "--database",
            str(self.state_dir / "settlement.sqlite"),
        ]
        self.process = spawn(args, self.state_dir / "logs" / "settlement.log")
        deadline = time.monotonic() + timeout
        while not port_open(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"the settlement simulator did not start; see {self.state_dir}/logs"
                )
            time.sleep(0.05)
        return self.url

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None
