"""The request journal (`GET /__harness/requests`, issue 14): what the app sent and what it got, newest first,
filterable, secrets redacted, bounded, shared by workers (tests/test_workers.py), cleared by `DELETE`."""

from __future__ import annotations

import pytest

from harness import journal
from harness.redaction import REDACTED
from harness.testing.ekool import EkoolTokens
from harness.testing.sunbird import SunbirdTokens, gateway_bearer

REQUESTS = "/__harness/requests"


def test_the_journal_shows_an_exchange_as_the_app_made_it(client):
    client.delete(REQUESTS)
    answer = client.get("/user/me/basic?lang=et", headers={"Authorization": "Bearer nope", "X-App": "web"})
    assert answer.status_code == 401
    (entry,) = client.get(REQUESTS).json()
    assert (entry["operation"], entry["api"], entry["method"], entry["path"], entry["status"]) == (
        "getMyBasic", "ekool", "GET", "/user/me/basic", 401)
    assert entry["query"] == {"lang": "et"} and entry["url"] == "/user/me/basic?lang=et"
    assert entry["request"]["headers"]["x-app"] == "web"
    assert entry["request"]["headers"]["authorization"] == REDACTED
    assert entry["response"]["body"]["error"] == "access_denied"
    assert entry["response"]["headers"]["content-type"].startswith("application/json")
    assert abs(entry["at"] - client.get("/__harness/clock").json()["epoch"]) < 5


def test_admin_and_docs_requests_are_not_journaled_and_unrouted_ones_are(client):
    client.delete(REQUESTS)
    client.get("/__harness/health")
    client.get("/ekool/openapi.json")
    client.get("/")
    client.get("/nowhere")
    entries = client.get(REQUESTS).json()
    assert [(e["operation"], e["path"], e["status"]) for e in entries] == [(None, "/nowhere", 404)]


def test_secrets_tokens_codes_and_passwords_never_reach_the_journal(client):
    client.delete(REQUESTS)
    tokens = EkoolTokens(client).tokens()  # login page (password, CSRF), consent, code, token exchange
    sunbird = SunbirdTokens(client)
    v1 = sunbird.v1_credential()
    refresh = sunbird.realm_tokens()
    client.post("/api/auth/v1/refresh/token", data={"refresh_token": refresh["refresh_token"]},
                headers={"Authorization": f"Bearer {sunbird.device_token()}"})
    answer = client.get(REQUESTS, params={"limit": 1000})
    text, entries = answer.text, {e["operation"]: e for e in reversed(answer.json())}
    secrets = [tokens["access_token"], tokens["refresh_token"], "ekooldemosecret0000000000000000000000001",
               v1["secret"], v1["token"], refresh["refresh_token"], refresh["access_token"],
               gateway_bearer("mobile_app")]
    assert [s[:12] for s in secrets if s in text] == []
    assert entries["submitLogin"]["request"]["body"]["password"] == REDACTED
    assert entries["submitLogin"]["request"]["body"]["_token"] == REDACTED
    assert entries["issueToken"]["request"]["body"]["client_secret"] == REDACTED
    assert entries["issueToken"]["response"]["body"]["access_token"] == REDACTED
    assert entries["registerCredentialV1"]["response"]["body"]["result"]["secret"] == REDACTED
    assert "code=[redacted]" in entries["decideAuthorization"]["response"]["headers"]["location"]
    assert entries["showLogin"]["response"]["body"].endswith("bytes of text/html]"), "pages carry the CSRF token"


@pytest.mark.parametrize(("params", "expected"), [
    ({"operation": "getMyRoles"}, {("getMyRoles", "GET", "/user/me/roles")}),
    ({"method": "post"}, {("issueToken", "POST", "/oauth/token")}),
    ({"path": "/generaldata"}, {("getGeneralData", "GET", "/generaldata")}),
])
def test_the_journal_filters_by_operation_method_and_path(client, params, expected):
    client.delete(REQUESTS)
    client.get("/user/me/roles")
    client.post("/oauth/token", data={"grant_type": "refresh_token"})
    client.get("/generaldata")
    entries = client.get(REQUESTS, params=params).json()
    assert {(e["operation"], e["method"], e["path"]) for e in entries} == expected


def test_newest_first_limited_and_cleared(client):
    client.delete(REQUESTS)
    for n in range(5):
        client.get(f"/missing/{n}")
    entries = client.get(REQUESTS, params={"limit": 3}).json()
    assert [e["path"] for e in entries] == ["/missing/4", "/missing/3", "/missing/2"]
    assert client.delete(REQUESTS).json() == {"cleared": 5}
    assert client.get(REQUESTS).json() == []


@pytest.mark.parametrize("limit", ["0", "1001", "many"])
def test_a_bad_limit_is_a_400_problem(client, limit):
    answer = client.get(REQUESTS, params={"limit": limit})
    assert answer.status_code == 400 and answer.json()["detail"].startswith("limit")


def test_the_ring_keeps_the_last_entries_only(client, monkeypatch):
    monkeypatch.setattr(journal, "CAPACITY", 3)
    client.delete(REQUESTS)
    for n in range(5):
        client.get(f"/missing/{n}")
    assert [e["path"] for e in client.get(REQUESTS).json()] == ["/missing/4", "/missing/3", "/missing/2"]


def test_no_journal_when_turned_off(make_app):
    from starlette.testclient import TestClient

    with TestClient(make_app(journal=False), base_url="http://127.0.0.1:8000") as client:
        client.get("/user/me/basic")
        assert client.get(REQUESTS).json() == []
