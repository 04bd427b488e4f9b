"""A throwaway PostgreSQL cluster for tests and benchmarks: Debian's `postgresql` binaries, a temporary directory,
a free port on 127.0.0.1, started on entry and stopped (and deleted) on exit.

initdb refuses to run as root; as root the cluster runs as the `postgres` user (Debian's package makes it) or
`nobody`. Durability is off (fsync, full-page writes): the data is thrown away anyway.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

INSTALL = "apt-get install -y postgresql"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def server_bin() -> Path:
    """The directory of initdb/pg_ctl: the newest /usr/lib/postgresql/<n>/bin, or the one on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    initdb = found[-1] if found else shutil.which("initdb")
    if not initdb:
        raise PostgresUnavailable(f"PostgreSQL's server is not installed (initdb not found): {INSTALL}")
    return Path(os.path.realpath(initdb)).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayPostgres:
    """`with ThrowawayPostgres() as pg: pg.new_database()` gives a `postgresql://` URL of an empty database."""

    def __init__(self, max_connections: int = 300) -> None:
        self.bin = server_bin()
        self.port = _free_port()
        self.max_connections = max_connections
        self.user = None if os.geteuid() else ("postgres" if _has_user("postgres") else "nobody")
        self.root = Path(tempfile.mkdtemp(prefix="harness-pg-"))
        self.data = self.root / "data"
        self._databases = 0

    def _run(self, *args: str) -> None:
        result = subprocess.run([str(self.bin / args[0]), *args[1:]], capture_output=True, text=True,
                                user=self.user, timeout=120, check=False)
        if result.returncode:
            raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stderr.strip() or result.stdout}")

    def start(self) -> ThrowawayPostgres:
        if self.user:
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, self.user)
        self._run("initdb", "-D", str(self.data), "-U", "harness", "--auth=trust", "-E", "UTF8", "--no-sync",
                  "--no-instructions")
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   f"-c full_page_writes=off -c synchronous_commit=off -c max_connections={self.max_connections}")
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.root / "log"),
                  "-o", options)
        return self

    @property
    def admin_url(self) -> str:
        return f"postgresql://harness@127.0.0.1:{self.port}/postgres"

    def new_database(self, template: str | None = None) -> str:
        """A new database on this cluster (empty, or a copy of the database `template`), and its URL."""
        import psycopg

        self._databases += 1
        name = f"harness_{self._databases}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        return self.url(name)

    def url(self, database: str) -> str:
        return f"postgresql://harness@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(self.data))
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ThrowawayPostgres:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
