"""The fuzzing stage: schemathesis against every service's OpenAPI on a platform of its own.

Starts the embedded PostgreSQL, Tansu and the four services on free ports (beside `make run`),
then runs schemathesis over each service's OpenAPI document twice — anonymously and as an
account holder — with a fixed seed and a time budget, checking that no response is a server
error and that every response matches its documented schema. Any failure fails the stage.

    .venv/bin/python -m tests.fuzz.run                        # CI: 30 s per service and identity
    FUZZ_SECONDS=600 FUZZ_SEED=7 .venv/bin/python -m tests.fuzz.run   # longer, another seed
    FUZZ_SERVICES=issuance .venv/bin/python -m tests.fuzz.run         # one service

Destructive administration (cancellations, account freezes) is out of reach by design: neither
identity holds `registry_admin`. Reports (JUnit, and a pytest file reproducing each failure)
land in the printed directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from libs.devstack.stack import Stack
from libs.events.kafka import SERVICES
from libs.servicekit.devtokens import issue_token

CHECKS = "not_a_server_error,response_schema_conformance"


def main() -> int:
    seconds = int(os.environ.get("FUZZ_SECONDS", "30"))
    seed = os.environ.get("FUZZ_SEED", "20261207")
    services = os.environ.get("FUZZ_SERVICES", ",".join(SERVICES)).split(",")
    with tempfile.TemporaryDirectory(prefix="tanhui-fuzz-") as tmp:
        state = Path(tmp)
        stack = Stack.on_free_ports(state, TANHUI_COMMENT_RATE_PER_MINUTE="100000")
        try:
            urls = stack.up()
            holder = issue_token(state, "COOP-FUZZ-01", ["account_holder", "developer", "member"])
            identities = {"anonymous": None, "account-holder": holder}
            failed = []
            for service in services:
                for identity, token in identities.items():
                    run = f"{service}-{identity}"
                    ok = _schemathesis(urls[service], token, seconds, seed, state / run)
                    print(f"fuzz {run}: {'passed' if ok else 'FAILED'}", flush=True)
                    if not ok:
                        failed.append(run)
            _print_server_errors(state)
        finally:
            stack.down()
        if failed:
            print(f"fuzz: failures in {', '.join(failed)}", flush=True)
            return 1
        print("fuzz: no server error and no schema violation", flush=True)
        return 0


def _schemathesis(url: str, token: str | None, seconds: int, seed: str, reports: Path) -> bool:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{url}/openapi.json",
        "--checks",
        CHECKS,
        "--seed",
        seed,
        "--max-time",
        str(seconds),
        # One worker: schemathesis's threads meet a CPython 3.11.7 AST bug ("recursion depth
        # mismatch") that fails a run for reasons of its own, not of the API.
        "--workers",
        "1",
        "--generation-allow-x00",
        "true",
        "--generation-database",
        "none",
        "--request-timeout",
        "10",
        "--suppress-health-check",
        "all",
        "--no-color",
        "--report",
        "junit,pytest",
        "--report-dir",
        str(reports),
    ]
    if token is not None:
        command += ["--header", f"Authorization: Bearer {token}"]
    started = time.monotonic()
    result = subprocess.run(command, check=False)
    print(f"  ({time.monotonic() - started:.0f} s; reports in {reports})", flush=True)
    return result.returncode == 0


def _print_server_errors(state: Path) -> None:
    """The services' logs of unexpected errors, so a CI failure shows its traceback."""
    for log in sorted((state / "logs").glob("*.log")):
        text = log.read_text(errors="replace")
        if "unhandled error" in text or "Traceback" in text:
            print(f"--- {log.name} (errors) ---\n{text[-6000:]}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
