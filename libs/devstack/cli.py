"""The `tanhui` command: run the platform, issue development tokens."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from libs.events.kafka import SERVICES
from libs.servicekit.auth import ROLES
from libs.servicekit.entries import service_entries


def default_state_dir() -> Path:
    return Path(os.environ.get("TANHUI_STATE_DIR", Path.cwd() / ".tanhui")).resolve()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tanhui", description="Tanhui 碳汇 operator commands")
    parser.add_argument("--state-dir", type=Path, default=None, help="default: ./.tanhui")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("run", help="start the whole platform locally (Ctrl-C stops it)")

    migrate = commands.add_parser(
        "migrate", help="create the service's database if absent and apply its migrations"
    )
    migrate.add_argument("service", choices=SERVICES)

    token = commands.add_parser("token", help="print a development bearer token")
    token.add_argument("--org", required=True, help="the caller's organisation id")
    token.add_argument("--role", action="append", default=[], choices=sorted(ROLES))
    token.add_argument("--sub", default=None, help="subject (default: <org>/dev)")
    token.add_argument("--ttl", type=int, default=12 * 3600, help="lifetime in seconds")

    ledger = commands.add_parser(
        "ledger", help="audit a service's log against its signed checkpoint (docs/events.md)"
    )
    ledger.add_argument("action", choices=["verify"])
    ledger.add_argument("url", help="the service's base URL, e.g. http://127.0.0.1:8001")
    ledger.add_argument("--verifier", help="the service's key as you know it (else as published)")
    ledger.add_argument("--token", help="an auditor's bearer token (development: made here)")
    ledger.add_argument("--previous", type=Path, help="a checkpoint seen before: prove the growth")
    ledger.add_argument("--save", type=Path, help="write the checkpoint checked here to this file")

    runners = {}
    for name, entry in service_entries().items():
        if entry.commands is not None:
            runners[name] = entry.commands(commands.add_parser(name, help=entry.commands_help))

    args = parser.parse_args(argv)
    state_dir = (args.state_dir or default_state_dir()).resolve()
    if args.command == "run":
        from libs.devstack.stack import run

        return run(state_dir)
    if args.command == "token":
        return _token(state_dir, args)
    if args.command == "migrate":
        return _migrate(args.service)
    if args.command == "ledger":
        from libs.devstack.ledger_audit import verify_command

        return verify_command(state_dir, args)
    if args.command in runners:
        return runners[args.command](args)
    return 2


def _token(state_dir: Path, args: argparse.Namespace) -> int:
    if os.environ.get("TANHUI_ENV") == "production":
        print("tanhui token: the development issuer is disabled in production", file=sys.stderr)
        return 2
    from libs.servicekit.devtokens import issue_token

    print(issue_token(state_dir, args.org, args.role, args.sub, args.ttl))
    return 0


def _migrate(service: str) -> int:
    """Used by the Kubernetes init container; reads TANHUI_<SERVICE>_DATABASE_URL."""
    import asyncio

    from libs.servicekit.database import migrate

    settings = service_entries()[service].settings()
    asyncio.run(migrate(service, settings.database_url))
    print(f"{service}: migrations applied")
    return 0


if __name__ == "__main__":
    sys.exit(main())
