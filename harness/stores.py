"""Which store a server opens: the one backend module that knows both."""

from __future__ import annotations

from harness.settings import Settings
from harness.store import SqliteStore, Store
from harness.store_postgres import PostgresStore


def open_store(settings: Settings) -> Store:
    """The store `settings` name: `store_url` (PostgreSQL) when set, else the state directory's SQLite file."""
    if settings.store_url:
        return PostgresStore(settings.store_url)
    return SqliteStore(settings.state_dir)
