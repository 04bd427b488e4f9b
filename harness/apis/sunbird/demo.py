"""Demo data (`fixtures/sunbird/demo/*.yaml`): the tables it lives in, and seeding them.

The YAML files are the single source: the seed, the `harness serve` banner and the README all read them.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from harness import contract

DEMO_DIR: Path = contract.fixture_dir() / "sunbird" / "demo"

DDL = """
CREATE TABLE IF NOT EXISTS sunbird_consumers (name TEXT PRIMARY KEY, groups TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sunbird_credentials (
    key TEXT PRIMARY KEY,
    consumer TEXT NOT NULL,
    algorithm TEXT NOT NULL CHECK (algorithm IN ('HS256', 'RS256')),
    secret TEXT,
    demo INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL DEFAULT (julianday('now'))
);
CREATE TABLE IF NOT EXISTS sunbird_rate_limits (
    credential TEXT NOT NULL, minute INTEGER NOT NULL, hits INTEGER NOT NULL, PRIMARY KEY (credential, minute)
);
CREATE TABLE IF NOT EXISTS sunbird_realm_clients (client_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS sunbird_realm_users (
    username TEXT PRIMARY KEY, password TEXT NOT NULL, user_id TEXT NOT NULL, realm_roles TEXT NOT NULL,
    account_roles TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sunbird_realm_sessions (
    session_state TEXT PRIMARY KEY, username TEXT NOT NULL, client_id TEXT NOT NULL, offline INTEGER NOT NULL,
    started_at INTEGER NOT NULL
)
"""

TABLES = (
    "sunbird_consumers", "sunbird_credentials", "sunbird_rate_limits", "sunbird_realm_clients",
    "sunbird_realm_users", "sunbird_realm_sessions",
)


@dataclass(frozen=True)
class DemoConsumer:
    name: str
    groups: tuple[str, ...]
    credentials: tuple[tuple[str, str], ...]
    signing_keys: tuple[str, ...]


@dataclass(frozen=True)
class DemoRealm:
    name: str
    signing_key: str
    access_token_key: str
    federation_id: str
    clients: tuple[str, ...]
    users: tuple[dict[str, Any], ...]


def _read(name: str) -> dict[str, Any]:
    return yaml.safe_load((DEMO_DIR / name).read_text(encoding="utf-8"))


@cache
def consumers() -> tuple[DemoConsumer, ...]:
    return tuple(
        DemoConsumer(
            name=item["name"],
            groups=tuple(item.get("groups", [])),
            credentials=tuple((c["key"], c["secret"]) for c in item.get("credentials", [])),
            signing_keys=tuple(item.get("signing_keys", [])),
        )
        for item in _read("gateway.yaml")["consumers"]
    )


@cache
def realm() -> DemoRealm:
    data = _read("realm.yaml")
    return DemoRealm(
        name=data["realm"],
        signing_key=data["signing_key"],
        access_token_key=data["access_token_key"],
        federation_id=data["federation_id"],
        clients=tuple(c["client_id"] for c in data["clients"]),
        users=tuple(data["users"]),
    )


def key_ids() -> tuple[str, ...]:
    """Every RSA key the Sunbird behaviour signs with: v2 device keys, the realm key, the access-token key."""
    device = [kid for consumer in consumers() for kid in consumer.signing_keys]
    return (*device, realm().signing_key, realm().access_token_key)


def seed(tx: sqlite3.Connection) -> None:
    """Replace every Sunbird row with the demo data (registered credentials and sessions are dropped)."""
    for table in TABLES:
        tx.execute(f"DELETE FROM {table}")  # fixed names, not input
    for consumer in consumers():
        tx.execute("INSERT INTO sunbird_consumers (name, groups) VALUES (?, ?)",
                   (consumer.name, json.dumps(list(consumer.groups))))
        tx.executemany(
            "INSERT INTO sunbird_credentials (key, consumer, algorithm, secret, demo) VALUES (?, ?, 'HS256', ?, 1)",
            [(key, consumer.name, secret) for key, secret in consumer.credentials],
        )
        tx.executemany(
            "INSERT INTO sunbird_credentials (key, consumer, algorithm, secret, demo) VALUES (?, ?, 'RS256', NULL, 1)",
            [(kid, consumer.name) for kid in consumer.signing_keys],
        )
    demo_realm = realm()
    tx.executemany("INSERT INTO sunbird_realm_clients (client_id) VALUES (?)", [(c,) for c in demo_realm.clients])
    tx.executemany(
        "INSERT INTO sunbird_realm_users (username, password, user_id, realm_roles, account_roles) "
        "VALUES (?, ?, ?, ?, ?)",
        [(u["username"], u["password"], u["id"], json.dumps(u["realm_roles"]), json.dumps(u["account_roles"]))
         for u in demo_realm.users],
    )


def ddl() -> str:
    return DDL


def banner(ctx: Any = None) -> list[str]:
    """The demo credentials, for `harness serve` and the landing page (demo secrets only)."""
    lines = ["gateway credentials (Bearer: harness token generate --key KEY --secret SECRET):"]
    for consumer in consumers():
        for key, secret in consumer.credentials:
            lines.append(f"  {consumer.name:<13} key {key:<18} secret {secret:<21} groups {', '.join(consumer.groups)}")
    users = ", ".join(f"{u['username']} / {u['password']}" for u in realm().users)
    lines.append(f"realm user {users} (client {', '.join(realm().clients)}): "
                 "POST /auth/realms/sunbird/protocol/openid-connect/token")
    return lines
