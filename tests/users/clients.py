"""Small `requests`-based clients written against the real hosts, as a user's application would be.

They know nothing about the harness: base URLs are parameters, defaulting to the documented staging hosts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests


@dataclass
class SunbirdClient:
    """Registers a device like the mobile SDK (v2, falling back to v1) and refreshes access tokens."""

    gateway_bearer: str
    base_url: str = "https://staging.open-sunbird.org/api"
    session: requests.Session = field(default_factory=requests.Session)

    def register_device(self, device_key: str, consumer: str = "mobile_device") -> str:
        body = {"id": "ekstep.genie.device.register", "ver": "1.0", "ts": "2026-11-24T10:00:00Z",
                "request": {"key": device_key}}
        headers = {"Authorization": f"Bearer {self.gateway_bearer}"}
        for version in ("v2", "v1"):
            response = self.session.post(
                f"{self.base_url}/api-manager/{version}/consumer/{consumer}/credential/register",
                json=body, headers=headers, timeout=10)
            if response.status_code == 200 and response.json()["params"]["status"] == "successful":
                return response.json()["result"]["token"]
        raise RuntimeError(f"device registration failed: {response.status_code} {response.text}")

    def refresh(self, device_token: str, refresh_token: str) -> dict[str, Any]:
        response = self.session.post(f"{self.base_url}/auth/v1/refresh/token",
                                     data={"refresh_token": refresh_token},
                                     headers={"Authorization": f"Bearer {device_token}"}, timeout=10)
        return {"status": response.status_code, **response.json()}


@dataclass
class EkoolClient:
    """A backend exchanging an authorization code and calling the resource API."""

    client_id: str
    client_secret: str
    redirect_uri: str
    login_url: str = "https://login.ekool.dev"
    api_url: str = "https://api-v2.ekool.dev"
    session: requests.Session = field(default_factory=requests.Session)
    tokens: dict[str, Any] = field(default_factory=dict)

    def _token(self, form: dict[str, str]) -> requests.Response:
        form = {"client_id": self.client_id, "client_secret": self.client_secret, **form}
        response = self.session.post(f"{self.login_url}/oauth/token", data=form, timeout=10)
        if response.status_code == 200:
            self.tokens = response.json()
        return response

    def exchange(self, code: str) -> requests.Response:
        return self._token({"grant_type": "authorization_code", "redirect_uri": self.redirect_uri, "code": code})

    def refresh(self) -> requests.Response:
        return self._token({"grant_type": "refresh_token", "refresh_token": self.tokens["refresh_token"]})

    def get(self, path: str) -> requests.Response:
        return self.session.get(f"{self.api_url}{path}", timeout=10,
                                headers={"Authorization": f"Bearer {self.tokens['access_token']}"})
