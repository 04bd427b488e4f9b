"""Gateway consumers and their JWT credentials in the store (what Kong keeps in its database)."""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass

from harness.store import Row, Store

_SECRET_ALPHABET = string.ascii_letters + string.digits


class CredentialConflict(Exception):
    """The key already belongs to another consumer or is a signing key: the gateway refuses a duplicate."""


@dataclass(frozen=True)
class Credential:
    key: str
    consumer: str
    algorithm: str
    secret: str | None
    groups: frozenset[str]


def find(store: Store, key: str) -> Credential | None:
    row = store.one(
        "SELECT c.key, c.consumer, c.algorithm, c.secret, k.groups FROM sunbird_credentials c "
        "JOIN sunbird_consumers k ON k.name = c.consumer WHERE c.key = ?",
        (key,),
    )
    if row is None:
        return None
    return Credential(row["key"], row["consumer"], row["algorithm"], row["secret"],
                      frozenset(json.loads(row["groups"])))


def consumer_exists(store: Store, name: str) -> bool:
    return store.one("SELECT 1 FROM sunbird_consumers WHERE name = ?", (name,)) is not None


def new_secret() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(32))


def _own_secret(row: Row, consumer: str, key: str) -> str:
    if row["consumer"] != consumer or row["algorithm"] != "HS256":
        raise CredentialConflict(key)
    return row["secret"]


def existing_hs256(store: Store, consumer: str, key: str) -> str | None:
    """The secret of `consumer`'s HS256 credential `key` if it exists (a plain read, no write lock)."""
    row = store.one("SELECT consumer, algorithm, secret FROM sunbird_credentials WHERE key = ?", (key,))
    return None if row is None else _own_secret(row, consumer, key)


def register_hs256(store: Store, consumer: str, key: str) -> str:
    """The secret of `consumer`'s HS256 credential `key`, created once (atomic across workers).

    An existing key is read without the write lock; a new one is inserted under it, so concurrent first
    registrations of one key (in any worker) all get the secret of the one that won.
    """
    existing = existing_hs256(store, consumer, key)
    if existing is not None:
        return existing
    with store.transaction() as tx:
        row = tx.execute("SELECT consumer, algorithm, secret FROM sunbird_credentials WHERE key = ?",
                         (key,)).fetchone()
        if row is None:
            secret = new_secret()
            tx.execute("INSERT INTO sunbird_credentials (key, consumer, algorithm, secret) VALUES (?, ?, 'HS256', ?)",
                       (key, consumer, secret))
            return secret
    return _own_secret(row, consumer, key)


def signing_keys(store: Store, consumer: str) -> list[str]:
    """The RS256 credentials (kids) a v2 token for `consumer` may be signed with."""
    rows = store.query(
        "SELECT key FROM sunbird_credentials WHERE consumer = ? AND algorithm = 'RS256' ORDER BY key", (consumer,)
    )
    return [row["key"] for row in rows]


def count_hit(store: Store, credential: str, minute: int) -> int:
    """Count one request of `credential` in this minute; the total so far (older windows are dropped)."""
    with store.transaction() as tx:
        tx.execute("DELETE FROM sunbird_rate_limits WHERE minute < ?", (minute,))
        row = tx.execute(
            "INSERT INTO sunbird_rate_limits (credential, minute, hits) VALUES (?, ?, 1) "
            "ON CONFLICT (credential, minute) DO UPDATE SET hits = sunbird_rate_limits.hits + 1 RETURNING hits",
            (credential, minute),
        ).fetchone()
    return int(row["hits"])
