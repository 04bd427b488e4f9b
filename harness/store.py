"""The embedded state store: one SQLite file per state directory, shared by every worker.

WAL mode lets readers run beside one writer; writes go through `transaction()`, which takes the
write lock up front (`BEGIN IMMEDIATE`) so a read-then-write sequence is atomic across processes.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DB_NAME = "state.db"

_META_DDL = "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"


class StateDirError(RuntimeError):
    """The state directory cannot be created or written."""


class Store:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            probe = self.state_dir / ".write-probe"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise StateDirError(f"state directory {self.state_dir} is not writable: {exc.strerror}") from exc
        self.path = self.state_dir / DB_NAME
        self._local = threading.local()
        with self.transaction() as tx:
            tx.execute(_META_DDL)

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self.connection().execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        return self.connection().execute(sql, params).fetchone()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one write statement in its own transaction; returns the affected row count."""
        with self.transaction() as tx:
            return tx.execute(sql, params).rowcount

    def meta(self, name: str, default_factory: Any = None) -> str | None:
        """Read a meta value; with a factory, create it once (atomically across workers)."""
        row = self.one("SELECT value FROM meta WHERE name = ?", (name,))
        if row is not None or default_factory is None:
            return row["value"] if row else None
        with self.transaction() as tx:
            tx.execute("INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?)", (name, default_factory()))
            return tx.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()["value"]

    def secret(self, name: str) -> str:
        """A random secret generated once per state directory."""
        value = self.meta(f"secret:{name}", lambda: secrets.token_urlsafe(32))
        assert value is not None
        return value

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
