"""A user's own test suite: only the plugin's fixtures (`harness_mock`, `harness_server`, `harness_tokens`)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest
import requests
from clients import EkoolClient, SunbirdClient

EKOOL_CLIENT = ("ekooldemoclient00000000000000001", "ekooldemosecret0000000000000000000000001")
REDIRECT = "http://localhost:3000/callback"


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Fail the test if anything tries to open a network connection."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError(f"test opened a socket to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    yield attempts
    assert attempts == []


def sunbird_flow(client: SunbirdClient, refresh_token: str) -> None:
    device_token = client.register_device("users-suite-device")
    refreshed = client.refresh(device_token, refresh_token)
    assert refreshed["status"] == 200
    assert refreshed["params"]["status"] == "successful"
    assert refreshed["result"]["refresh_token"] == refresh_token
    assert refreshed["result"]["access_token"].count(".") == 2
    garbage = client.refresh(device_token, "not-a-refresh-token")
    assert garbage["status"] == 400 and garbage["params"]["err"] == "invalid_grant"


def ekool_flow(client: EkoolClient, code: str) -> None:
    assert client.exchange(code).status_code == 200
    basic = client.get("/user/me/basic")
    assert basic.status_code == 200 and basic.json()["status"] is True
    assert basic.json()["data"]["first_name"]
    children = client.get("/user/me/children")
    assert children.status_code == 200 and children.json()["data"], "mari is a parent"
    assert client.exchange(code).status_code == 400, "a code works once"
    old_refresh = client.tokens["refresh_token"]
    assert client.refresh().status_code == 200
    assert client.tokens["refresh_token"] != old_refresh
    assert client.get("/generaldata").status_code == 200


def test_sunbird_client_against_the_in_process_mock(harness_mock, harness_tokens, no_sockets):
    refresh_token = harness_tokens.realm_refresh_token()
    bearer = harness_tokens.gateway_bearer("mobile_app")
    sunbird_flow(SunbirdClient(bearer), refresh_token)
    # the documented paths without the /api prefix answer the same way
    sunbird_flow(SunbirdClient(bearer, base_url="https://staging.open-sunbird.org"), refresh_token)
    assert len(harness_mock.calls) >= 6


def test_ekool_client_against_the_in_process_mock(harness_mock, harness_tokens, no_sockets):
    code = harness_tokens.ekool_code("mari")
    ekool_flow(EkoolClient(*EKOOL_CLIENT, REDIRECT), code)


def test_unmocked_hosts_are_not_reached(harness_mock):
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get("https://example.invalid/user/me/basic", timeout=5)


def test_sunbird_client_against_the_live_server(harness_server, harness_tokens):
    bearer = harness_tokens.gateway_bearer("mobile_app")
    sunbird_flow(SunbirdClient(bearer, base_url=f"{harness_server.url}/api"), harness_tokens.realm_refresh_token())


def test_ekool_client_against_the_live_server(harness_server, harness_tokens):
    client = EkoolClient(*EKOOL_CLIENT, REDIRECT, login_url=harness_server.url, api_url=harness_server.url)
    ekool_flow(client, harness_tokens.ekool_code("mari"))


def test_landing_page_and_swagger_uis(harness_server):
    landing = requests.get(f"{harness_server.url}/", timeout=10)
    assert landing.status_code == 200 and "text/html" in landing.headers["Content-Type"]
    assert "Sunbird API Manager" in landing.text and "eKool" in landing.text
    for ui, title in (("/api/ui/", "Sunbird"), ("/ekool/ui/", "eKool")):
        page = requests.get(f"{harness_server.url}{ui}", timeout=10)
        assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
        assert "swagger-ui" in page.text
        spec = requests.get(f"{harness_server.url}{ui.replace('/ui/', '/openapi.json')}", timeout=10).json()
        assert title.lower() in spec["info"]["title"].lower()


def test_httpx_users_get_an_in_process_transport(harness_transport, harness_tokens, no_sockets) -> None:
    import httpx

    with httpx.Client(transport=harness_transport, base_url="https://staging.open-sunbird.org/api") as http:
        refreshed = http.post("/auth/v1/refresh/token", data={"refresh_token": harness_tokens.realm_refresh_token()},
                              headers={"Authorization": f"Bearer {harness_tokens.sunbird_device_token()}"})
        assert refreshed.status_code == 200 and refreshed.json()["params"]["status"] == "successful"
        refused = http.post("/auth/v1/refresh/token", data={"refresh_token": "x"})
        assert refused.status_code == 401 and refused.json() == {"message": "Unauthorized"}
    with httpx.Client(transport=harness_transport, base_url="https://api-v2.ekool.dev") as http:
        token = harness_tokens.ekool_tokens(user="mari", scopes=["users-basic"])["access_token"]
        basic = http.get("/user/me/basic", headers={"Authorization": f"Bearer {token}"})
        assert basic.status_code == 200 and basic.json()["status"] is True
        assert http.get("/user/me/roles", headers={"Authorization": f"Bearer {token}"}).status_code == 403


def test_harness_clock_expires_a_token_without_waiting(harness_transport, harness_tokens, harness_clock) -> None:
    """A user's test of "what does my app do when the token expires" (issue 14): no 7-day wait."""
    tokens = harness_tokens.ekool_tokens(user="mari", scopes=["users-basic"])
    with httpx.Client(transport=harness_transport, base_url="https://api-v2.ekool.dev") as http:
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert http.get("/user/me/basic", headers=bearer).status_code == 200
        before = harness_clock.now()
        assert harness_clock.advance("7d") - before >= 7 * 86400
        assert http.get("/user/me/basic", headers=bearer).status_code == 401
    harness_clock.reset()
    assert abs(harness_clock.now() - time.time()) < 1
