"""Sunbird test fixtures: both public prefixes, and `sb`, the helpers (demo bearers, registration, realm calls).

The suite imports test modules in importlib mode, so helpers reach tests as a fixture, not an import.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.testclient import TestClient

from harness import authtoken
from harness.crypto.tokens import sign_rs256
from harness.server import HarnessApp

PREFIXES = ("/api", "")
BASE_URL = "http://127.0.0.1:8000"
REALM_URL = f"{BASE_URL}/auth/realms/sunbird"
DEMO_SECRETS = {"mobile_admin": "mobile_admin_secret", "mobile_app": "mobile_app_secret",
                "desktop_app": "desktop_app_secret", "portal": "portal_secret"}
ADMIN_FOR = {"mobile_app": "mobile_admin", "mobile_device": "mobile_app", "desktop_device": "desktop_app",
             "portal_anonymous": "portal", "portal_loggedin": "portal"}


def demo_bearer(consumer: str) -> str:
    return authtoken.generate(f"{consumer}_key", DEMO_SECRETS[consumer])


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register(client: TestClient, version: str, consumer: str, key: str = "device-1", prefix: str = "/api",
             bearer: str | None = None, body: Any = None) -> Any:
    token = bearer or demo_bearer(ADMIN_FOR.get(consumer, "mobile_admin"))
    return client.post(f"{prefix}/api-manager/{version}/consumer/{consumer}/credential/register",
                       json={"request": {"key": key}} if body is None else body, headers=auth(token))


def device_token(client: TestClient, consumer: str = "mobile_device", version: str = "v2") -> str:
    response = register(client, version, consumer, key=f"{consumer}-{version}-device")
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    return result["token"] if version == "v2" else authtoken.generate(result["key"], result["secret"])


def realm_tokens(client: TestClient, offline: bool = True, prefix: str = "") -> dict[str, Any]:
    form = {"grant_type": "password", "client_id": "android", "username": "learner", "password": "learner"}
    if offline:
        form["scope"] = "offline_access"
    response = client.post(f"{prefix}/auth/realms/sunbird/protocol/openid-connect/token", data=form)
    assert response.status_code == 200, response.text
    return response.json()


def realm_token(app: HarnessApp, typ: str = "Offline", headers: dict[str, Any] | None = None,
                **claims: Any) -> str:
    """A refresh token signed with the realm key; keyword arguments override claims (None removes one)."""
    now = int(time.time())
    payload = {"jti": "t", "exp": 0 if typ == "Offline" else now + 600, "nbf": 0, "iat": now, "iss": REALM_URL,
               "aud": "android", "sub": "f:x:y", "typ": typ, "azp": "android", "session_state": "s"}
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return sign_rs256(payload, app.ctx.keys, "accesspub0", headers=headers or {"kid": "accesspub0", "typ": "JWT"})


@pytest.fixture(params=PREFIXES, ids=["api-prefix", "bare"])
def prefix(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def sb() -> SimpleNamespace:
    return SimpleNamespace(
        PREFIXES=PREFIXES, BASE_URL=BASE_URL, REALM_URL=REALM_URL, ADMIN_FOR=ADMIN_FOR, demo_bearer=demo_bearer,
        auth=auth, register=register, device_token=device_token, realm_tokens=realm_tokens, realm_token=realm_token,
    )
