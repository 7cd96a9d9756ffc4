"""`python -m simulators.settlement --port 8005 --database PATH`."""

from __future__ import annotations

import argparse

import uvicorn

from simulators.settlement.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Settlement system simulator")
    parser.add_argument("--port", type=int, default=8005)
    parser.add_argument("--database", default=":memory:")
    args = parser.parse_args()
    uvicorn.run(create_app(args.database), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
