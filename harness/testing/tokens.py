"""Ready tokens for tests, obtained the way a client would: over the HTTP API, with the demo data."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from harness import authtoken
from harness.conformance.login import authorize_via_forms

# The documented demo data (README, fixtures/*/demo): gateway credentials per device consumer.
SUNBIRD_ADMIN_FOR_CONSUMER = {
    "mobile_app": "mobile_admin",
    "mobile_device": "mobile_app",
    "desktop_device": "desktop_app",
    "portal_anonymous": "portal",
    "portal_loggedin": "portal",
}
EKOOL_DEMO_CLIENT = ("ekooldemoclient00000000000000001", "ekooldemosecret0000000000000000000000001")
EKOOL_REDIRECT_URI = "http://localhost:3000/callback"
EKOOL_SCOPES = ("users-basic", "users-roles", "users-schools", "users-children")


def gateway_bearer(consumer: str, iat: int | None = None) -> str:
    """HS256 bearer of a demo gateway credential (`<consumer>_key` / `<consumer>_secret`), as seeds/003 makes it."""
    return authtoken.generate(f"{consumer}_key", f"{consumer}_secret", iat)


@dataclass
class TokenHelper:
    client: httpx.Client

    @classmethod
    @contextmanager
    def in_process(cls, app: Any) -> Iterator[TokenHelper]:
        from starlette.testclient import TestClient

        with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as client:
            yield cls(client)

    @classmethod
    @contextmanager
    def over_http(cls, base_url: str) -> Iterator[TokenHelper]:
        with httpx.Client(base_url=base_url, follow_redirects=False) as client:
            yield cls(client)

    gateway_bearer = staticmethod(gateway_bearer)

    def _ok(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code != 200:
            raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} "
                               f"{response.text[:300]}")
        return response.json()

    def sunbird_device_token(self, consumer: str = "mobile_device", key: str | None = None) -> str:
        """A v2 (RS256) device token from `POST /api/api-manager/v2/consumer/{consumer}/credential/register`."""
        admin = SUNBIRD_ADMIN_FOR_CONSUMER[consumer]
        body = self._ok(self.client.post(
            f"/api/api-manager/v2/consumer/{consumer}/credential/register",
            json={"request": {"key": key or f"device-{secrets.token_hex(8)}"}},
            headers={"Authorization": f"Bearer {gateway_bearer(admin)}"},
        ))
        return body["result"]["token"]

    def sunbird_v1_credential(self, consumer: str = "mobile_device", key: str | None = None) -> dict[str, str]:
        """A v1 credential `{key, secret, token}` (HS256 token signed with the returned secret)."""
        admin = SUNBIRD_ADMIN_FOR_CONSUMER[consumer]
        body = self._ok(self.client.post(
            f"/api/api-manager/v1/consumer/{consumer}/credential/register",
            json={"request": {"key": key or f"device-{secrets.token_hex(8)}"}},
            headers={"Authorization": f"Bearer {gateway_bearer(admin)}"},
        ))
        return body["result"]

    def realm_tokens(self, username: str = "learner", password: str = "learner", offline: bool = True
                     ) -> dict[str, Any]:
        form = {"grant_type": "password", "client_id": "android", "username": username, "password": password}
        if offline:
            form["scope"] = "offline_access"
        return self._ok(self.client.post("/auth/realms/sunbird/protocol/openid-connect/token", data=form))

    def realm_refresh_token(self, offline: bool = True) -> str:
        return self.realm_tokens(offline=offline)["refresh_token"]

    def ekool_code(self, user: str = "mari", password: str | None = None, scopes: Iterable[str] = EKOOL_SCOPES,
                   client: tuple[str, str] = EKOOL_DEMO_CLIENT, redirect_uri: str = EKOOL_REDIRECT_URI) -> str:
        """An authorization code, obtained through the login and consent pages."""
        query = urlencode({"response_type": "code", "client_id": client[0], "redirect_uri": redirect_uri,
                           "scope": " ".join(scopes), "state": secrets.token_hex(4)})
        redirect = authorize_via_forms(self.client, f"/oauth/authorize?{query}", redirect_uri, user,
                                       password or user)
        if "code" not in redirect.params:
            raise RuntimeError(f"authorization failed: {redirect.location}")
        return redirect.params["code"]

    def ekool_tokens(self, user: str = "mari", scopes: Iterable[str] = EKOOL_SCOPES,
                     client: tuple[str, str] = EKOOL_DEMO_CLIENT, redirect_uri: str = EKOOL_REDIRECT_URI
                     ) -> dict[str, Any]:
        """`{token_type, expires_in, access_token, refresh_token}` for a user and scopes."""
        code = self.ekool_code(user, scopes=scopes, client=client, redirect_uri=redirect_uri)
        return self._ok(self.client.post("/oauth/token", data={
            "grant_type": "authorization_code", "client_id": client[0], "client_secret": client[1],
            "redirect_uri": redirect_uri, "code": code,
        }))
