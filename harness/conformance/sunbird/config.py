"""The `[sunbird]` table of the conformance config; the defaults are the demo data of `harness serve`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.conformance.apis import demo_data
from harness.conformance.config import ConfigError, check_keys


@dataclass(frozen=True)
class GatewayCredential:
    """A Kong JWT credential of a gateway consumer (reference/sunbird-api-manager.md, "Gateway")."""

    key: str
    secret: str


def _demo_credentials() -> dict[str, GatewayCredential]:
    """The first credential of each demo gateway consumer that has one (fixtures/sunbird/demo/gateway.yaml)."""
    return {consumer["name"]: GatewayCredential(consumer["credentials"][0]["key"], consumer["credentials"][0]["secret"])
            for consumer in demo_data("sunbird", "gateway.yaml")["consumers"] if consumer.get("credentials")}


def _demo_realm(field_name: str) -> Any:
    realm = demo_data("sunbird", "realm.yaml")
    return {"username": realm["users"][0]["username"], "password": realm["users"][0]["password"],
            "client_id": realm["clients"][0]["client_id"], "path": f"/auth/realms/{realm['realm']}"}[field_name]


@dataclass(frozen=True)
class SunbirdConfig:
    # Public gateway prefix in front of the spec's paths (the seeds call `/api/api-manager/...`).
    prefix: str = "/api"
    # Gateway consumers by name; `mobile_admin` may call `consumer/mobile_app`, `mobile_app` the
    # `mobile_device` routes, `desktop_app` the `desktop_device` ones, `portal` the portal ones.
    credentials: dict[str, GatewayCredential] = field(default_factory=_demo_credentials)
    # How to get a realm refresh token: a given one, or the password grant with these.
    refresh_token: str | None = None
    realm_username: str | None = field(default_factory=lambda: _demo_realm("username"))
    realm_password: str | None = field(default_factory=lambda: _demo_realm("password"))
    realm_client_id: str = field(default_factory=lambda: _demo_realm("client_id"))
    realm_path: str = field(default_factory=lambda: _demo_realm("path"))
    # Expected `iss` of realm tokens; None: whatever the realm's openid-configuration announces.
    realm_issuer: str | None = None

    @property
    def realm_token_path(self) -> str:
        return f"{self.realm_path}/protocol/openid-connect/token"

    @property
    def realm_certs_path(self) -> str:
        return f"{self.realm_path}/protocol/openid-connect/certs"


def parse_sunbird(data: dict[str, Any]) -> SunbirdConfig:
    values = check_keys(SunbirdConfig, data, "sunbird")
    if "credentials" in values:
        try:
            values["credentials"] = {
                name: GatewayCredential(key=item["key"], secret=item["secret"])
                for name, item in values["credentials"].items()
            }
        except (KeyError, TypeError) as exc:
            raise ConfigError("[sunbird.credentials.<consumer>] needs `key` and `secret`") from exc
    return SunbirdConfig(**values)
