"""The state store every worker and every instance shares: codes, tokens, credentials, keys, faults, journal.

Two backends behind one interface (`Store`), chosen by `harness.stores.open_store(settings)`:
- `SqliteStore` (the default): one SQLite file per state directory, shared by the workers of one machine. WAL
  lets readers run beside one writer; `transaction()` takes the write lock up front (`BEGIN IMMEDIATE`), so a
  read-then-write sequence is atomic across processes.
- `harness.store_postgres.PostgresStore` (`--store postgresql://…`): one database shared by instances on
  several machines, with the same guarantee (see that module for how).

The interface's contract, which every caller relies on: a `transaction()` sees no other writer between its
first and its last statement; `query`/`one` read committed data; SQL is the subset both backends run (`?`
placeholders, `INSERT … ON CONFLICT`, `RETURNING`; DDL in SQLite's type names, which the PostgreSQL store
translates). `shared_number(name)` is a number (the clock's offset, a cache's version) every process of the same
store reads and moves.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from harness.clock import Number, SharedNumber

DB_NAME = "state.db"

META_DDL = "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"


class StateDirError(RuntimeError):
    """The state directory cannot be created or written, or the database cannot be reached."""


class Row(Protocol):
    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> Any: ...


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Transaction(Protocol):
    """What `Store.transaction()` yields: `sqlite3.Connection`'s `execute`/`executemany`, on either backend."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, params: Any, /) -> Any: ...


class Store:
    """The interface; `SqliteStore` and `PostgresStore` implement `transaction`, `query`, `one`,
    `shared_number` and `close`."""

    state_dir: Path | None = None

    def describe(self) -> str:
        """Where the state lives, for the banner (never a password)."""
        raise NotImplementedError

    def transaction(self) -> Any:
        raise NotImplementedError

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def shared_number(self, name: str) -> Number:
        raise NotImplementedError

    def begin_request(self) -> None:
        """A request starts: a backend may read the shared numbers once for it (no-op here)."""

    def close(self) -> None:
        raise NotImplementedError

    def drop_all(self) -> None:
        """Every table gone but an empty `meta` (`harness store reset` of tables another version made)."""
        raise NotImplementedError

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one write statement in its own transaction; returns the affected row count."""
        with self.transaction() as tx:
            return tx.execute(sql, params).rowcount

    def meta(self, name: str, default_factory: Any = None) -> str | None:
        """Read a meta value; with a factory, create it once (atomically across workers and instances)."""
        row = self.one("SELECT value FROM meta WHERE name = ?", (name,))
        if row is not None or default_factory is None:
            return row["value"] if row else None
        with self.transaction() as tx:
            tx.execute("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                       (name, default_factory()))
            return tx.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()["value"]

    def set_meta(self, tx: Transaction, name: str, value: str) -> None:
        tx.execute("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = "
                   "excluded.value", (name, value))

    def secret(self, name: str) -> str:
        """A random secret generated once per store."""
        value = self.meta(f"secret:{name}", lambda: secrets.token_urlsafe(32))
        assert value is not None
        return value


class SqliteStore(Store):
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
            tx.execute(META_DDL)

    def describe(self) -> str:
        return f"state: {self.state_dir}"

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

    def shared_number(self, name: str) -> SharedNumber:
        """A memory-mapped file of the state directory (`harness.clock.SharedNumber`)."""
        return SharedNumber(self.state_dir / f"{name}.bin")

    def drop_all(self) -> None:
        with self.transaction() as tx:
            for row in tx.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                                  "'sqlite_%'").fetchall():
                tx.execute(f'DROP TABLE "{row[0]}"')
            tx.execute(META_DDL)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
