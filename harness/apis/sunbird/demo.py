"""Demo data (`fixtures/sunbird/demo/*.yaml`): the tables it lives in, and seeding them.

The YAML files are the single source: the seed, the `harness serve` banner and the README all read them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from harness import contract
from harness.plugins import SeedData
from harness.store import Transaction
from harness.userdata import seed_data

DEMO_DIR: Path = contract.fixture_dir() / "sunbird" / "demo"

DDL = """
CREATE TABLE IF NOT EXISTS sunbird_consumers (name TEXT PRIMARY KEY, groups TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sunbird_credentials (
    key TEXT PRIMARY KEY,
    consumer TEXT NOT NULL,
    algorithm TEXT NOT NULL CHECK (algorithm IN ('HS256', 'RS256')),
    secret TEXT,
    demo INTEGER NOT NULL DEFAULT 0
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


@dataclass(frozen=True)
class StartingData:
    consumers: tuple[DemoConsumer, ...]
    realm_users: tuple[dict[str, Any], ...]
    realm_clients: tuple[str, ...]


def starting_data(data: SeedData) -> StartingData:
    """The demo data unless left out, with the config's entries (`harness.apis.sunbird.config` has checked
    them): a consumer by name takes the groups and signing keys given, a credential by key replaces the demo's,
    a realm user by username."""
    merged = {c.name: c for c in consumers()} if data.include_demo else {}
    for entry in data.entries.get("consumers", []):
        old = merged.get(entry["name"], DemoConsumer(entry["name"], (), (), ()))
        merged[entry["name"]] = DemoConsumer(
            old.name, old.groups if entry["groups"] is None else tuple(entry["groups"]), old.credentials,
            old.signing_keys if entry["signing_keys"] is None else tuple(entry["signing_keys"]))
    configured = data.entries.get("credentials", [])
    replaced = {c["key"] for c in configured}
    for name, consumer in merged.items():
        own = tuple((c["key"], c["secret"]) for c in configured if c["consumer"] == name)
        kept = tuple(pair for pair in consumer.credentials if pair[0] not in replaced)
        merged[name] = DemoConsumer(name, consumer.groups, kept + own, consumer.signing_keys)
    demo_realm = realm()
    users = {u["username"]: u for u in demo_realm.users} if data.include_demo else {}
    users.update({u["username"]: u for u in data.entries.get("realm_users", [])})
    clients = (demo_realm.clients if data.include_demo else ()) + tuple(data.entries.get("realm_clients", []))
    return StartingData(tuple(merged.values()), tuple(users.values()), tuple(dict.fromkeys(clients)))


def key_ids(data: SeedData) -> tuple[str, ...]:
    """Every RSA key the Sunbird behaviour signs with: v2 device keys, the realm key, the access-token key."""
    device = [kid for consumer in starting_data(data).consumers for kid in consumer.signing_keys]
    return (*device, realm().signing_key, realm().access_token_key)


def rotating_keys() -> tuple[str, ...]:
    """What `/__harness/keys/rotate` rotates: the realm's signing key (its tokens name their kid)."""
    return (realm().signing_key,)


def seed(tx: Transaction, data: SeedData) -> None:
    """Replace every Sunbird row with the starting data (registered credentials and sessions are dropped)."""
    for table in TABLES:
        tx.execute(f"DELETE FROM {table}")  # fixed names, not input
    start = starting_data(data)
    for consumer in start.consumers:
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
    tx.executemany("INSERT INTO sunbird_realm_clients (client_id) VALUES (?)", [(c,) for c in start.realm_clients])
    tx.executemany(
        "INSERT INTO sunbird_realm_users (username, password, user_id, realm_roles, account_roles) "
        "VALUES (?, ?, ?, ?, ?)",
        [(u["username"], u["password"], u["id"], json.dumps(u["realm_roles"]), json.dumps(u["account_roles"]))
         for u in start.realm_users],
    )


def ddl() -> str:
    return DDL


def banner(ctx: Any) -> list[str]:
    """The credentials, for `harness serve` and the landing page (demo secrets only: a config file's are its own)."""
    from harness.apis.sunbird import PLUGIN

    data = seed_data(ctx.settings, PLUGIN)
    start = starting_data(data)
    own_keys = {c["key"] for c in data.entries.get("credentials", [])}
    own_users = {u["username"] for u in data.entries.get("realm_users", [])}
    lines = ["gateway credentials (Bearer: harness token generate --key KEY --secret SECRET):"]
    for consumer in start.consumers:
        for key, secret in consumer.credentials:
            shown = f"from {ctx.settings.config_file}" if key in own_keys else secret
            lines.append(f"  {consumer.name:<13} key {key:<18} secret {shown:<21} groups {', '.join(consumer.groups)}")
    users = ", ".join(u["username"] + ("" if u["username"] in own_users else f" / {u['password']}")
                      for u in start.realm_users)
    lines.append(f"realm user {users} (client {', '.join(start.realm_clients)}): "
                 "POST /auth/realms/sunbird/protocol/openid-connect/token")
    return lines
