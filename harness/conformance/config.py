"""What `harness conform` checks and with which credentials: a TOML file, or the demo data by default.

The defaults are the documented demo data of `harness serve` (README, fixtures/*/), so
`harness conform --target http://127.0.0.1:8000` works at once. A real deployment needs a config file;
see `conformance.example.toml`. String values may name environment variables as `${NAME}` so secrets
stay out of the file.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

SUNBIRD_DEMO_CONSUMERS = ("mobile_admin", "mobile_app", "desktop_app", "portal")
EKOOL_SCOPES = ("users-basic", "users-roles", "users-schools", "users-children")


class ConfigError(ValueError):
    """The config file is unreadable or names an unknown setting."""


@dataclass(frozen=True)
class GatewayCredential:
    """A Kong JWT credential of a gateway consumer (reference/sunbird-api-manager.md, "Gateway")."""

    key: str
    secret: str


def _demo_credentials() -> dict[str, GatewayCredential]:
    return {name: GatewayCredential(f"{name}_key", f"{name}_secret") for name in SUNBIRD_DEMO_CONSUMERS}


@dataclass(frozen=True)
class SunbirdConfig:
    # Public gateway prefix in front of the spec's paths (the seeds call `/api/api-manager/...`).
    prefix: str = "/api"
    # Gateway consumers by name; `mobile_admin` may call `consumer/mobile_app`, `mobile_app` the
    # `mobile_device` routes, `desktop_app` the `desktop_device` ones, `portal` the portal ones.
    credentials: dict[str, GatewayCredential] = field(default_factory=_demo_credentials)
    # How to get a realm refresh token: a given one, or the password grant with these.
    refresh_token: str | None = None
    realm_username: str | None = "learner"
    realm_password: str | None = "learner"
    realm_client_id: str = "android"
    realm_path: str = "/auth/realms/sunbird"
    # Expected `iss` of realm tokens; None: whatever the realm's openid-configuration announces.
    realm_issuer: str | None = None

    @property
    def realm_token_path(self) -> str:
        return f"{self.realm_path}/protocol/openid-connect/token"

    @property
    def realm_certs_path(self) -> str:
        return f"{self.realm_path}/protocol/openid-connect/certs"


@dataclass(frozen=True)
class EkoolConfig:
    client_id: str = "ekooldemoclient00000000000000001"
    client_secret: str = "ekooldemosecret0000000000000000000000001"
    redirect_uri: str = "http://localhost:3000/callback"
    # Another URI the client registered: a code issued for `redirect_uri` must not work with it.
    other_redirect_uri: str | None = "http://127.0.0.1/callback"
    # A second client, used to prove codes and refresh tokens are bound to their client.
    other_client_id: str | None = "ekoolbasicclient0000000000000002"
    other_client_secret: str | None = "ekoolbasicsecret000000000000000000000002"
    # A test user, logged in through the HTML login and consent forms; or a given refresh token.
    username: str | None = "mari"
    password: str | None = "mari"
    refresh_token: str | None = None
    scopes: tuple[str, ...] = EKOOL_SCOPES
    # eKool serves the authorization server and the resource API on two hosts; None: the target.
    login_url: str | None = None
    api_url: str | None = None
    # Where the access tokens' public keys are published, on the login host.
    jwks_path: str = "/.well-known/jwks.json"
    # A redirect URI no client registers; the server must never send the browser there.
    unregistered_redirect_uri: str = "https://attacker.invalid/callback"


@dataclass(frozen=True)
class ConformConfig:
    target: str = "http://127.0.0.1:8000"
    apis: tuple[str, ...] = ("sunbird", "ekool")
    phases: tuple[str, ...] = ("spec", "rules", "fixtures")
    max_examples: int = 25
    seed: int | None = None
    # schemathesis worker threads for the spec phase. One by default: with two, CPython 3.11 sometimes raises
    # "AST constructor recursion depth mismatch" inside schemathesis (concurrent `ast` use; CPython gh-106905).
    workers: int = 1
    request_timeout: float = 10.0
    fixture_dir: Path | None = None
    sunbird: SunbirdConfig = field(default_factory=SunbirdConfig)
    ekool: EkoolConfig = field(default_factory=EkoolConfig)

    def with_overrides(self, **changes: Any) -> ConformConfig:
        """A copy with the given fields replaced; `None` values leave a field as it is."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def base_url(self) -> str:
        return self.target.rstrip("/")

    @property
    def ekool_login_url(self) -> str:
        return (self.ekool.login_url or self.target).rstrip("/")

    @property
    def ekool_api_url(self) -> str:
        return (self.ekool.api_url or self.target).rstrip("/")


def _expand(value: Any) -> Any:
    if isinstance(value, str):
        return os.path.expandvars(value)
    if isinstance(value, dict):
        return {k: _expand(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v) for v in value]
    return value


def _build(cls: type, data: dict[str, Any], where: str) -> dict[str, Any]:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"[{where}]: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return dict(data)


def _sunbird(data: dict[str, Any]) -> SunbirdConfig:
    values = _build(SunbirdConfig, data, "sunbird")
    if "credentials" in values:
        try:
            values["credentials"] = {
                name: GatewayCredential(key=item["key"], secret=item["secret"])
                for name, item in values["credentials"].items()
            }
        except (KeyError, TypeError) as exc:
            raise ConfigError("[sunbird.credentials.<consumer>] needs `key` and `secret`") from exc
    return SunbirdConfig(**values)


def _ekool(data: dict[str, Any]) -> EkoolConfig:
    values = _build(EkoolConfig, data, "ekool")
    if "scopes" in values:
        values["scopes"] = tuple(values["scopes"])
    return EkoolConfig(**values)


def parse_config(data: dict[str, Any]) -> ConformConfig:
    data = _expand(data)
    values = _build(ConformConfig, data, "top level")
    if "sunbird" in values:
        values["sunbird"] = _sunbird(values["sunbird"])
    if "ekool" in values:
        values["ekool"] = _ekool(values["ekool"])
    for name in ("apis", "phases"):
        if name in values:
            values[name] = tuple(values[name])
    if "fixture_dir" in values:
        values["fixture_dir"] = Path(values["fixture_dir"])
    return ConformConfig(**values)


def load_config(path: Path | None) -> ConformConfig:
    """The config in `path`, or the demo defaults when `path` is None."""
    if path is None:
        return ConformConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    try:
        return parse_config(data)
    except TypeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
