"""`tanhui run`: the whole platform on this machine.

Starts the embedded PostgreSQL (data kept under the state directory) and Tansu unless
`DATABASE_URL` / `KAFKA_BOOTSTRAP_SERVERS` point elsewhere, creates one database per service
and applies its migrations, creates the topics, then runs the four services on fixed ports.
Ctrl-C (or SIGTERM) stops the services, then the broker, then the database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from libs.devstack.broker import TansuBroker
from libs.devstack.postgres import EmbeddedPostgres
from libs.devstack.processes import free_port, port_open, spawn, stop
from libs.devstack.settlement import SETTLEMENT_PORT, SettlementSimulator
from libs.events.kafka import SERVICES, ensure_topics, platform_topics
from libs.servicekit.database import migrate, with_database
from libs.servicekit.devtokens import ensure_dev_keys, issue_token
from libs.servicekit.entries import service_entries

POSTGRES_PORT = 54329
KAFKA_PORT = 9092
MARKET_ORG = "TANHUI-MARKET"
DISCLOSURE_ORG = "TANHUI-DISCLOSURE"  # reads the registry for reconciliation
MONTH = 30 * 86_400


def service_database_url(server_url: str, service: str) -> str:
    return with_database(server_url, f"tanhui_{service}")


def default_ports() -> dict[str, int]:
    return {s: entry.settings.default_port for s, entry in service_entries().items()}


@dataclass
class Stack:
    """The platform's processes. `make run` uses the fixed ports; the fuzzer and the fault
    suite pass free ones (and extra environment) so that they run beside it."""

    state_dir: Path
    ports: dict[str, int] = field(default_factory=default_ports)
    postgres_port: int = POSTGRES_PORT
    kafka_port: int = KAFKA_PORT
    settlement_port: int = SETTLEMENT_PORT
    extra_env: dict[str, str] = field(default_factory=dict)
    postgres: EmbeddedPostgres | None = None
    broker: TansuBroker | None = None
    settlement: SettlementSimulator | None = None
    services: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def on_free_ports(cls, state_dir: Path, **extra_env: str) -> Stack:
        """A platform beside `make run`: every port free, logs at WARNING unless told."""
        return cls(
            state_dir,
            ports={s: free_port() for s in SERVICES},
            postgres_port=free_port(),
            kafka_port=free_port(),
            settlement_port=free_port(),
            extra_env={"TANHUI_LOG_LEVEL": "WARNING"} | extra_env,
        )

    def up(self) -> dict[str, str]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        server_url = os.environ.get("DATABASE_URL") or self._start_postgres()
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or self._start_broker()
        urls = {s: service_database_url(server_url, s) for s in SERVICES}
        asyncio.run(_prepare(urls, bootstrap))
        jwks = ensure_dev_keys(self.state_dir)
        self.settlement = SettlementSimulator(self.state_dir, self.settlement_port)
        settlement_url = self.settlement.start()
        self.env = dict(os.environ)
        self.env.update(
            {
                "TANHUI_ENV": "development",
                "TANHUI_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                "TANHUI_JWKS_FILE": str(jwks),
                **{f"TANHUI_{s.upper()}_DATABASE_URL": url for s, url in urls.items()},
                **self._market_env(settlement_url),
                **self.extra_env,
            }
        )
        for service in SERVICES:
            self.start_service(service)
        self.wait_healthy()
        return self.urls()

    def _market_env(self, settlement_url: str) -> dict[str, str]:
        """Matching's view of the registry and the settlement system, and the market's token
        (the holder of every escrow) from the development issuer; disclosure's reader token
        for reconciliation, and where it finds the other services' logs."""
        token = issue_token(self.state_dir, MARKET_ORG, ["market_operator"], ttl_seconds=MONTH)
        reader = issue_token(self.state_dir, DISCLOSURE_ORG, ["auditor"], ttl_seconds=MONTH)
        return {
            "TANHUI_REGISTRY_TOKEN": reader,
            "TANHUI_REGISTRY_URL": f"http://127.0.0.1:{self.ports['registry']}",
            "TANHUI_ISSUANCE_URL": f"http://127.0.0.1:{self.ports['issuance']}",
            "TANHUI_MATCHING_URL": f"http://127.0.0.1:{self.ports['matching']}",
            "TANHUI_SETTLEMENT_URL": settlement_url,
            "TANHUI_MARKET_ORG": MARKET_ORG,
            "TANHUI_MARKET_TOKEN": token,
        }

    def urls(self) -> dict[str, str]:
        return {s: f"http://127.0.0.1:{port}" for s, port in self.ports.items()}

    def down(self) -> None:
        for process in self.services.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.services.values():
            stop(process)
        self.services.clear()
        if self.settlement is not None:
            self.settlement.stop()
        if self.broker is not None:
            self.broker.stop()
        if self.postgres is not None:
            self.postgres.stop()

    def _start_postgres(self) -> str:
        self.postgres = EmbeddedPostgres(self.state_dir, self.postgres_port)
        return self.postgres.start()

    def _start_broker(self) -> str:
        self.broker = TansuBroker(self.state_dir, self.kafka_port)
        return self.broker.start()

    def start_service(self, service: str) -> None:
        """Start (or restart) one service's process; `wait_healthy` waits for it."""
        self.services[service] = self._spawn_service(service)

    def _spawn_service(self, service: str) -> subprocess.Popen[bytes]:
        port = self.ports[service]
        if port_open(port):
            raise RuntimeError(f"port {port} for {service} is taken")
        args = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            f"services.{service}.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ]
        # Each service signs its checkpoints with its own key, kept across restarts.
        key = self.state_dir / "ledger-keys" / f"{service}.pem"
        env = {"TANHUI_LEDGER_KEY_FILE": str(key)} | self.env
        return spawn(args, self.state_dir / "logs" / f"{service}.log", env=env)

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        for service, process in self.services.items():
            port = self.ports[service]
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{service} exited; see {self.state_dir}/logs/{service}.log")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{service} did not become healthy")
                time.sleep(0.2)


async def _prepare(urls: dict[str, str], bootstrap: str) -> None:
    for service, url in urls.items():
        await migrate(service, url)
    await ensure_topics(bootstrap, platform_topics())


def run(state_dir: Path) -> int:
    stack = Stack(state_dir)
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    # A closed terminal stops the platform in order too; under `nohup` the hangup stays ignored.
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        signal.signal(signal.SIGHUP, request_stop)
    try:
        urls = stack.up()
        _print_banner(urls, state_dir)
        while not stopping:
            for service, process in stack.services.items():
                if process.poll() is not None:
                    print(f"{service} exited with {process.returncode}; stopping", flush=True)
                    stopping = True
            time.sleep(0.3)
    finally:
        print("stopping services, broker and database …", flush=True)
        stack.down()
    print("stopped.", flush=True)
    return 0


def _print_banner(urls: dict[str, str], state_dir: Path) -> None:
    lines = ["", "Tanhui 碳汇 is running:"]
    lines += [f"  {service:<11} {url}   (API docs: {url}/docs)" for service, url in urls.items()]
    lines += ["  settlement  http://127.0.0.1:8005   (the exchange's settlement system, simulated)"]
    lines += [
        "",
        "Get a development token (all four services accept it) and open a first account:",
        "  TOKEN=$(.venv/bin/tanhui token --org ORG-REGISTRY --role registry_admin)",
        '  curl -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\',
        '    -d \'{"owner": "COOP-QP-01", "name": "青浦稻米合作社"}\' http://127.0.0.1:8001/v1/accounts',
        'More first calls: README.md, "Tokens and a first call".',
        "",
        f"Logs: {state_dir}/logs/<service>.log   State: {state_dir}",
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)
