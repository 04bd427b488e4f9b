"""The `[sunbird]` table of the conformance config; the defaults are the demo data of `harness serve`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.conformance.config import ConfigError, check_keys

SUNBIRD_DEMO_CONSUMERS = ("mobile_admin", "mobile_app", "desktop_app", "portal")


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
