"""Sunbird data from a `harness serve --config` file (issue 14): the team's own Kong consumers and credentials
(their groups are the ACL), a demo credential replaced by key, a device consumer with v2 signing keys, realm users
and clients, the realm's lifetimes, and `[demo] include = false`."""

from __future__ import annotations

import jwt
import pytest
from starlette.testclient import TestClient

from harness import authtoken

CONFIG = """
[lifetimes]
sunbird_realm_access = "10m"
sunbird_realm_refresh = "1h"

[[sunbird.credentials]]
consumer = "my_app"
key = "my_app_key"
secret = "my_app_secret"
groups = ["mobileAdmin"]

[[sunbird.credentials]]
consumer = "mobile_admin"
key = "mobile_admin_key"
secret = "rotated_admin_secret"

[[sunbird.consumers]]
name = "my_device"
groups = ["refreshTokenCreate"]
signing_keys = ["my_devicev2_key1", "my_devicev2_key2"]

[[sunbird.realm_users]]
username = "teacher1"
password = "teacher1-pw"
realm_roles = ["uma_authorization"]

[[sunbird.realm_clients]]
client_id = "my-portal"
"""


def bearer(key: str, secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {authtoken.generate(key, secret)}"}


def register(client: TestClient, version: str, consumer: str, headers: dict[str, str]):
    return client.post(f"/api/api-manager/{version}/consumer/{consumer}/credential/register",
                       json={"request": {"key": "device-77"}}, headers=headers)


@pytest.fixture
def client(configured_app):
    with TestClient(configured_app(CONFIG), base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def test_a_configured_credential_passes_the_gateway_with_its_consumers_groups(client):
    mine = bearer("my_app_key", "my_app_secret")
    registered = register(client, "v1", "mobile_device", mine)
    assert registered.status_code == 200 and registered.json()["result"]["key"] == "device-77"
    assert register(client, "v1", "desktop_device", mine).status_code == 403  # mobileAdmin only
    wrong = register(client, "v1", "mobile_device", bearer("my_app_key", "wrong"))
    assert wrong.status_code == 403 and wrong.json() == {"message": "Invalid signature"}  # Kong's jwt plugin


def test_a_credential_with_a_demo_key_replaces_the_demo_secret(client):
    old = register(client, "v1", "mobile_app", bearer("mobile_admin_key", "mobile_admin_secret"))
    assert old.status_code == 403 and old.json() == {"message": "Invalid signature"}
    assert register(client, "v1", "mobile_app", bearer("mobile_admin_key", "rotated_admin_secret")).status_code == 200
    # the demo consumer keeps its groups: mobileSuperAdmin may still register on other consumers
    assert register(client, "v2", "my_device", bearer("mobile_admin_key", "rotated_admin_secret")).status_code == 200


def test_a_configured_device_consumer_gets_v2_tokens_signed_with_its_own_keys(client):
    answer = register(client, "v2", "my_device", bearer("mobile_admin_key", "rotated_admin_secret"))
    token = answer.json()["result"]["token"]
    kid = jwt.get_unverified_header(token)["kid"]
    assert kid in ("my_devicev2_key1", "my_devicev2_key2")
    key = next(k for k in client.get("/.well-known/jwks.json").json()["keys"] if k["kid"] == kid)
    claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"])
    assert claims["iss"] == "device-77"
    refreshed = client.post("/api/auth/v1/refresh/token", headers={"Authorization": f"Bearer {token}"},
                            data={"refresh_token": "x"})
    assert refreshed.status_code == 400  # past the gateway (refreshTokenCreate), refused by the service


def test_a_configured_realm_user_and_client_get_tokens_with_the_configured_lifetimes(client):
    answer = client.post("/auth/realms/sunbird/protocol/openid-connect/token", data={
        "grant_type": "password", "client_id": "my-portal", "username": "teacher1", "password": "teacher1-pw"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["expires_in"], body["refresh_expires_in"]) == (600, 3600)
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["preferred_username"] == "teacher1" and claims["realm_access"]["roles"] == ["uma_authorization"]
    offline = client.post("/auth/realms/sunbird/protocol/openid-connect/token", data={
        "grant_type": "password", "client_id": "my-portal", "username": "teacher1", "password": "teacher1-pw",
        "scope": "offline_access"})
    assert offline.status_code == 400 and offline.json()["error"] == "invalid_scope"  # not an offline_access user
    learner = client.post("/auth/realms/sunbird/protocol/openid-connect/token", data={
        "grant_type": "password", "client_id": "android", "username": "learner", "password": "learner"})
    assert learner.status_code == 200  # the demo's are still there


def test_without_the_demo_data_only_the_configured_entries_exist(configured_app):
    with TestClient(configured_app("[demo]\ninclude = false\n" + CONFIG), base_url="http://127.0.0.1:8000") as client:
        assert register(client, "v1", "mobile_device", bearer("mobile_app_key", "mobile_app_secret")).status_code == 403
        assert register(client, "v1", "mobile_device", bearer("my_app_key", "my_app_secret")).status_code == 400
        learner = client.post("/auth/realms/sunbird/protocol/openid-connect/token", data={
            "grant_type": "password", "client_id": "android", "username": "learner", "password": "learner"})
        assert learner.status_code in (400, 401)
        demo_login = client.get("/oauth/authorize", params={"response_type": "code",
                                "client_id": "ekooldemoclient00000000000000001"}, follow_redirects=False)
        assert demo_login.status_code == 401 and demo_login.json()["error"] == "invalid_client"
