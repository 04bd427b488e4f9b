"""Ready eKool tokens for tests (`harness_tokens.ekool`), obtained as a web app gets them: through the login and
consent pages and the token endpoint, with the demo clients and users of fixtures/ekool/demo/."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from harness.apis.ekool import demo
from harness.conformance.login import authorize_via_forms


def _demo_client() -> dict[str, Any]:
    clients, _ = demo.load_demo()
    return clients[0]


@dataclass
class EkoolTokens:
    client: httpx.Client

    def code(self, user: str = "mari", password: str | None = None, scopes: Iterable[str] | None = None,
             client: tuple[str, str] | None = None, redirect_uri: str | None = None) -> str:
        """An authorization code, obtained through the login and consent pages (the first demo client's
        scopes and redirect URI unless told otherwise; demo passwords equal the user names)."""
        demo_client = _demo_client()
        client_id = client[0] if client else demo_client["id"]
        redirect_uri = redirect_uri or demo_client["redirect_uris"][0]
        query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                           "scope": " ".join(demo_client["scopes"] if scopes is None else scopes),
                           "state": secrets.token_hex(4)})
        redirect = authorize_via_forms(self.client, f"/oauth/authorize?{query}", redirect_uri, user,
                                       password or user)
        if "code" not in redirect.params:
            raise RuntimeError(f"authorization failed: {redirect.location}")
        return redirect.params["code"]

    def tokens(self, user: str = "mari", scopes: Iterable[str] | None = None, client: tuple[str, str] | None = None,
               redirect_uri: str | None = None) -> dict[str, Any]:
        """`{token_type, expires_in, access_token, refresh_token}` for a user and scopes."""
        demo_client = _demo_client()
        client = client or (demo_client["id"], demo_client["secret"])
        redirect_uri = redirect_uri or demo_client["redirect_uris"][0]
        code = self.code(user, scopes=scopes, client=client, redirect_uri=redirect_uri)
        response = self.client.post("/oauth/token", data={
            "grant_type": "authorization_code", "client_id": client[0], "client_secret": client[1],
            "redirect_uri": redirect_uri, "code": code,
        })
        if response.status_code != 200:
            raise RuntimeError(f"token exchange: {response.status_code} {response.text[:300]}")
        return response.json()
