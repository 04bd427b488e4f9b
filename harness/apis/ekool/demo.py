"""eKool state: the tables, the demo clients and users (fixtures/ekool/demo/*.yaml), and their look-ups."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness import contract
from harness.plugins import SeedData
from harness.runtime import Context
from harness.settings import Settings
from harness.store import Row, Transaction
from harness.userdata import seed_data

DEMO_DIR: Path = contract.fixture_dir() / "ekool" / "demo"
_PBKDF2_ROUNDS = 60_000
PUBLIC = ""  # the secret hash of a public client

DDL = """
CREATE TABLE IF NOT EXISTS ekool_clients (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT NOT NULL,
    redirect_uris TEXT NOT NULL, scopes TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ekool_users (
    id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, profile TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ekool_auth_codes (
    code_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id INTEGER NOT NULL, redirect_uri TEXT,
    scopes TEXT NOT NULL, code_challenge TEXT, code_challenge_method TEXT, expires_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS ekool_access_tokens (
    jti TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id INTEGER NOT NULL, scopes TEXT NOT NULL,
    expires_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS ekool_refresh_tokens (
    token_hash TEXT PRIMARY KEY, access_jti TEXT NOT NULL, client_id TEXT NOT NULL, user_id INTEGER NOT NULL,
    scopes TEXT NOT NULL, expires_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0)
"""
TABLES = ("ekool_clients", "ekool_users", "ekool_auth_codes", "ekool_access_tokens", "ekool_refresh_tokens")


@dataclass(frozen=True)
class Client:
    id: str
    name: str
    secret_hash: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]

    @property
    def public(self) -> bool:
        """Passport's `! confidential()`: a client without a secret (PKCE only)."""
        return self.secret_hash == PUBLIC

    def secret_matches(self, secret: str) -> bool:
        return not self.public and hmac.compare_digest(self.secret_hash, digest(secret))


@dataclass(frozen=True)
class User:
    id: int
    username: str
    profile: dict[str, Any]


@dataclass(frozen=True)
class AuthorizationRequest:
    client: Client
    redirect_uri: str | None  # as requested; None when omitted (the client's only URI is used)
    scopes: tuple[str, ...]
    state: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    parameters: dict[str, str]

    @property
    def final_redirect_uri(self) -> str:
        return self.redirect_uri or self.client.redirect_uris[0]


def ddl() -> str:
    return DDL


def digest(value: str) -> str:
    """SHA-256 of a high-entropy secret (client secrets, refresh tokens, codes): what the store keeps."""
    return hashlib.sha256(value.encode()).hexdigest()


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    derived = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _PBKDF2_ROUNDS)
    return f"{salt.hex()}${derived.hex()}"


def password_matches(stored: str, password: str) -> bool:
    salt, _, _ = stored.partition("$")
    return hmac.compare_digest(stored, hash_password(password, bytes.fromhex(salt)))


def _demo_people(directory: Path = DEMO_DIR) -> dict[str, Any]:
    return yaml.safe_load((directory / "users.yaml").read_text(encoding="utf-8"))


def load_demo_schools(directory: Path = DEMO_DIR) -> list[dict[str, Any]]:
    return list(_demo_people(directory)["schools"])


def load_demo(directory: Path = DEMO_DIR) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The demo clients and users as written in the YAML files, schools resolved into each user."""
    clients = yaml.safe_load((directory / "clients.yaml").read_text(encoding="utf-8"))["clients"]
    people = _demo_people(directory)
    schools = {school["id"]: school for school in people["schools"]}
    users = [{**user, "schools": [schools[school_id] for school_id in user["schools"]]} for user in people["users"]]
    return clients, users


def starting_data(data: SeedData) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The clients and users `seed` loads: the demo's unless left out, a configured entry replacing the demo
    entry with its client id or username (`harness.apis.ekool.config` has checked and completed them)."""
    clients, users = load_demo() if data.include_demo else ([], [])
    configured_clients = data.entries.get("clients", [])
    configured_users = data.entries.get("users", [])
    client_ids = {client["id"] for client in configured_clients}
    usernames = {user["username"] for user in configured_users}
    return ([c for c in clients if c["id"] not in client_ids] + list(configured_clients),
            [u for u in users if u["username"] not in usernames] + list(configured_users))


def seed(tx: Transaction, data: SeedData) -> None:
    """Forget every eKool client, user, code and token, then load the starting data. A public client (Passport's:
    no secret) is stored with an empty secret hash."""
    for table in TABLES:
        tx.execute(f"DELETE FROM {table}")
    clients, users = starting_data(data)
    tx.executemany(
        "INSERT INTO ekool_clients (id, name, secret_hash, redirect_uris, scopes) VALUES (?, ?, ?, ?, ?)",
        [(c["id"], c["name"], digest(c["secret"]) if c.get("secret") else PUBLIC,
          json.dumps(c["redirect_uris"]), json.dumps(c["scopes"])) for c in clients],
    )
    rows = []
    for user in users:
        profile = {k: v for k, v in user.items() if k not in ("password", "id", "username")}
        rows.append((user["id"], user["username"], hash_password(user["password"]), json.dumps(profile)))
    tx.executemany("INSERT INTO ekool_users (id, username, password_hash, profile) VALUES (?, ?, ?, ?)", rows)


SERVER = "{server}"  # in a registered redirect URI: each address this server is reached at


def own_redirect_uris(uris: list[str], settings: Settings) -> tuple[str, ...]:
    """The registered URIs with `{server}` written out for each of `settings.own_origins` (the Swagger UI
    client's redirect page is this server's own, wherever it runs); matching stays exact."""
    expanded = [uri.replace(SERVER, origin) for uri in uris for origin in
                (settings.own_origins if SERVER in uri else ("",))]
    return tuple(dict.fromkeys(expanded))


def find_client(ctx: Context, client_id: str) -> Client | None:
    row = ctx.store.one("SELECT * FROM ekool_clients WHERE id = ?", (client_id,))
    if row is None:
        return None
    return Client(row["id"], row["name"], row["secret_hash"],
                  own_redirect_uris(json.loads(row["redirect_uris"]), ctx.settings), tuple(json.loads(row["scopes"])))


def _user(row: Row | None) -> User | None:
    return None if row is None else User(row["id"], row["username"], json.loads(row["profile"]))


def find_user(ctx: Context, user_id: int) -> User | None:
    return _user(ctx.store.one("SELECT id, username, profile FROM ekool_users WHERE id = ?", (user_id,)))


def find_user_by_name(ctx: Context, username: str) -> User | None:
    return _user(ctx.store.one("SELECT id, username, profile FROM ekool_users WHERE username = ?", (username,)))


def authenticate(ctx: Context, username: str, password: str) -> User | None:
    row = ctx.store.one("SELECT * FROM ekool_users WHERE username = ?", (username,))
    if row is None or not password_matches(row["password_hash"], password):
        return None
    return _user(row)


def _seed_data(ctx: Context) -> SeedData:
    from harness.apis.ekool import PLUGIN

    return seed_data(ctx.settings, PLUGIN)


def banner(ctx: Context) -> list[str]:
    data = _seed_data(ctx)
    clients, users = starting_data(data)
    configured = data.entries
    own_clients = {c["id"] for c in configured.get("clients", [])}
    own_users = {u["username"] for u in configured.get("users", [])}
    lines = []
    for c in clients:
        if not c.get("secret"):
            secret = "public: PKCE only"
        else:
            secret = f"secret from {ctx.settings.config_file}" if c["id"] in own_clients else c["secret"]
        lines.append(f"client {c['id']} / {secret}  scopes: {' '.join(c['scopes'])}")
    lines.append("redirect URIs: " + ", ".join(dict.fromkeys(
        u for c in clients for u in own_redirect_uris(c["redirect_uris"], ctx.settings)))
                 + "  (any port on 127.0.0.1)")
    lines.append("users: " + ", ".join(u["username"] + ("" if u["username"] in own_users else f" / {u['password']}")
                                       for u in users))
    lines.append(f"login: {ctx.settings.public_base_url}/oauth/authorize?response_type=code&client_id=…&redirect_uri=…")
    auto = ctx.settings.auto_login
    if auto:
        known = ctx.store.one("SELECT 1 FROM ekool_users WHERE username = ?", (auto,)) is not None
        lines.append(f"auto-login as {auto!r}: authorize answers with a code at once" if known
                     else f"auto-login user {auto!r} does not exist: the login page is shown instead")
    return lines
