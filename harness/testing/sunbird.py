"""Ready Sunbird tokens for tests (`harness_tokens.sunbird`), obtained the way the mobile SDK gets them: over
the HTTP API, with the demo gateway credentials and realm user of fixtures/sunbird/demo/."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from harness import authtoken
from harness.apis.sunbird import demo
from harness.apis.sunbird.gateway import operation_groups


def admin_for(consumer: str) -> str:
    """The demo gateway consumer whose groups the spec's ACL (`x-kong-acl-groups`) lets register `consumer`."""
    groups = operation_groups("registerCredentialV2", {"consumer": consumer}) or frozenset()
    found = next((c.name for c in demo.consumers() if c.credentials and groups & set(c.groups)), None)
    if found is None:
        raise KeyError(f"no demo gateway credential may register for {consumer!r}")
    return found


def gateway_bearer(consumer: str, iat: int | None = None) -> str:
    """HS256 bearer of a demo gateway consumer's credential, as seeds/003 makes it."""
    found = next((c for c in demo.consumers() if c.name == consumer and c.credentials), None)
    if found is None:
        raise KeyError(f"no demo gateway credential for consumer {consumer!r}")
    key, secret = found.credentials[0]
    return authtoken.generate(key, secret, iat)


def _ok(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} "
                           f"{response.text[:300]}")
    return response.json()


@dataclass
class SunbirdTokens:
    client: httpx.Client

    gateway_bearer = staticmethod(gateway_bearer)

    def _register(self, version: str, consumer: str, key: str | None) -> dict[str, Any]:
        return _ok(self.client.post(
            f"/api/api-manager/{version}/consumer/{consumer}/credential/register",
            json={"request": {"key": key or f"device-{secrets.token_hex(8)}"}},
            headers={"Authorization": f"Bearer {gateway_bearer(admin_for(consumer))}"},
        ))["result"]

    def device_token(self, consumer: str = "mobile_device", key: str | None = None) -> str:
        """A v2 (RS256) device token from `POST /api/api-manager/v2/consumer/{consumer}/credential/register`."""
        return self._register("v2", consumer, key)["token"]

    def v1_credential(self, consumer: str = "mobile_device", key: str | None = None) -> dict[str, str]:
        """A v1 credential `{key, secret, token}` (HS256 token signed with the returned secret)."""
        return self._register("v1", consumer, key)

    def realm_tokens(self, username: str | None = None, password: str | None = None, offline: bool = True
                     ) -> dict[str, Any]:
        """Tokens of the realm's password grant, for the first demo realm user unless told otherwise."""
        realm = demo.realm()
        user = realm.users[0]
        form = {"grant_type": "password", "client_id": realm.clients[0], "username": username or user["username"],
                "password": password or user["password"]}
        if offline:
            form["scope"] = "offline_access"
        return _ok(self.client.post(f"/auth/realms/{realm.name}/protocol/openid-connect/token", data=form))

    def realm_refresh_token(self, offline: bool = True) -> str:
        return self.realm_tokens(offline=offline)["refresh_token"]
