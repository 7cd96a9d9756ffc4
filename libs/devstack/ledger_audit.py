"""`tanhui ledger verify`: an auditor's check of one service's log (libs/transparency/audit.py),
printed as JSON; exit status 1 when anything is wrong."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

import httpx

from libs.transparency.audit import AuditReport, audit_log
from libs.transparency.checkpoint import CheckpointInvalid, Verifier


def verify_command(state_dir: Path, args: argparse.Namespace) -> int:
    token = args.token or _development_token(state_dir)
    if token is None:
        print("tanhui ledger verify: --token is required in production", file=sys.stderr)
        return 2
    try:
        verifier = Verifier.parse(args.verifier) if args.verifier else None
        previous = args.previous.read_text() if args.previous else None
        report, note = asyncio.run(_audit(args.url, token, verifier, previous))
    except (CheckpointInvalid, httpx.HTTPError, OSError) as exc:
        print(f"tanhui ledger verify: {exc}", file=sys.stderr)
        return 1
    if args.save:
        args.save.write_text(note)
    print(json.dumps(asdict(report) | {"ok": report.ok}, indent=2))
    return 0 if report.ok else 1


async def _audit(
    url: str, token: str, verifier: Verifier | None, previous: str | None
) -> tuple[AuditReport, str]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        return await audit_log(client, verifier, previous)


def _development_token(state_dir: Path) -> str | None:
    if os.environ.get("TANHUI_ENV") == "production":
        return None
    from libs.servicekit.devtokens import issue_token

    return issue_token(state_dir, "AUDITOR", ["auditor"])
