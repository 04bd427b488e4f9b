"""eKool data from a `harness serve --config` file (issue 14): the team's own clients — a public one PKCE-only,
as Passport's — users with their resource data, and lifetimes."""

from __future__ import annotations

import base64
import hashlib
import secrets

import pytest
from authlib.integrations.requests_client import OAuth2Session
from starlette.testclient import TestClient

from harness.testing.live import ThreadedServer

from .conftest import DEMO_CLIENT, DEMO_SECRET, Flow, jwt_parts, query_of
from .test_flows import log_in_and_approve

APP = "myapp0000000000000000000000000001"
APP_SECRET = "mysecret000000000000000000000000000000001"
SPA = "myspa0000000000000000000000000002"
VITE = "http://localhost:5173/callback"
CONFIG = f"""
[lifetimes]
ekool_access = "1h"
ekool_refresh = "2d"
ekool_code = "90s"

[[ekool.clients]]
id = "{APP}"
secret = "{APP_SECRET}"
name = "My app"
redirect_uris = ["{VITE}"]
scopes = ["users-basic", "users-children"]

[[ekool.clients]]
id = "{SPA}"
public = true
redirect_uris = ["{VITE}"]

[[ekool.schools]]
id = "3001"
name = "Pärnu Koidula Gümnaasium"
reg_nr = "75015402"
ehis_id = "599"

[[ekool.users]]
username = "kati"
password = "kati-pw"
first_name = "Kati"
last_name = "Karu"
email = "kati@example.ee"
id_code = "49001010006"
schools = ["3001", "2301"]
roles = [{{ role_id = "7100001", type_id = "4", role_name = "Lapsevanem", school_id = "3001" }}]
[[ekool.users.children]]
user_id = "200002"
role_id = "7100002"
first_name = "Mart"
last_name = "Karu"
id_code = "51801010009"
school_id = "3001"

[[ekool.users]]
username = "mari"
password = "new-mari"
first_name = "Maria"
last_name = "Tamm"
"""


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@pytest.fixture
def flow(configured_app):
    with TestClient(configured_app(CONFIG), base_url="http://127.0.0.1:8000") as client:
        yield Flow(client)


def log_in(flow: Flow, username: str, password: str, **params: str):
    """Log in on the login page of an authorization request; the answer to the login post."""
    return flow.login(flow.login_page(**params), username, password)


def test_a_configured_confidential_client_gets_its_redirect_uri_scopes_and_lifetimes(flow):
    request = {"client_id": APP, "redirect_uri": VITE, "scope": "users-basic users-children", "prompt": "consent"}
    back = log_in(flow, "kati", "kati-pw", **request)
    answer = flow.decide(flow.http.get(back.headers["location"], follow_redirects=False), "approve")
    assert answer.headers["location"].startswith(VITE + "?code=")
    pair = flow.exchange(query_of(answer.headers["location"])["code"], client_id=APP, client_secret=APP_SECRET,
                         redirect_uri=VITE).json()
    _, claims = jwt_parts(pair["access_token"])
    assert pair["expires_in"] == 3600 and 3599 < claims["exp"] - claims["iat"] <= 3600
    assert claims["aud"] == APP and claims["scopes"] == ["users-basic", "users-children"]
    assert flow.get("/user/me/basic", pair["access_token"]).json()["data"] == {
        "id": "100003", "first_name": "Kati", "last_name": "Karu", "email": "kati@example.ee",
        "id_code": "49001010006"}
    children = flow.get("/user/me/children", pair["access_token"]).json()["data"]
    assert [child["first_name"] for child in children] == ["Mart"]
    assert flow.get("/user/me/roles", pair["access_token"]).status_code == 403  # not among the client's scopes
    refused = flow.authorize(client_id=APP, redirect_uri=VITE, scope="users-roles")
    assert refused.status_code == 302 and query_of(refused.headers["location"])["error"] == "invalid_scope"
    other_uri = flow.authorize(client_id=APP, redirect_uri="http://localhost:3000/callback")
    assert other_uri.status_code == 401 and other_uri.json()["error"] == "invalid_client"
    wrong_secret = flow.refresh(pair["refresh_token"], client_id=APP, client_secret=DEMO_SECRET)
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"


def test_a_configured_user_replaces_the_demo_user_of_that_username_and_keeps_its_id(flow):
    old_password = log_in(flow, "mari", "mari")
    assert old_password.status_code == 200 and "These credentials do not match" in old_password.text
    assert log_in(flow, "mari", "new-mari").status_code == 302
    code = query_of(flow.decide(flow.consent_page(), "approve").headers["location"])["code"]
    pair = flow.exchange(code).json()
    assert jwt_parts(pair["access_token"])[1]["sub"] == "100001"
    basic = flow.get("/user/me/basic", pair["access_token"]).json()["data"]
    assert (basic["first_name"], basic["email"]) == ("Maria", "")
    assert flow.get("/user/me/children", pair["access_token"]).json()["data"] == []


def test_a_public_client_without_a_code_challenge_is_refused_as_league_does(flow):
    refused = flow.authorize(client_id=SPA, redirect_uri=VITE, scope="users-basic")
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_request"
    assert refused.json()["hint"] == "Code challenge must be provided for public clients"
    _, challenge = pkce()
    assert flow.is_sent_to_log_in(client_id=SPA, redirect_uri=VITE, code_challenge=challenge,
                                  code_challenge_method="S256")


def test_a_demo_client_still_works_beside_the_configured_ones(flow):
    pair = flow.tokens("juhan", scope="users-basic", client_id=DEMO_CLIENT, secret=DEMO_SECRET)
    assert flow.get("/user/me/basic", pair["access_token"]).json()["data"]["first_name"] == "Juhan"


def test_codes_expire_after_the_configured_lifetime(flow, configured_app):
    code = flow.code("juhan", scope="users-basic")
    flow.http.app.ctx.clock.advance(91)
    expired = flow.exchange(code)
    assert expired.status_code == 400 and expired.json()["hint"] == "Authorization code has expired"


def test_authlib_completes_a_public_clients_pkce_flow_without_a_secret(configured_app, monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    with ThreadedServer(configured_app(CONFIG)) as server:
        base = server.url
        oauth = OAuth2Session(SPA, scope="users-basic users-schools", redirect_uri=VITE,
                              code_challenge_method="S256", token_endpoint_auth_method="none")
        verifier = secrets.token_urlsafe(48)
        url, state = oauth.create_authorization_url(f"{base}/oauth/authorize", code_verifier=verifier)
        callback = log_in_and_approve(url, "kati", "kati-pw")
        assert callback.startswith(VITE) and query_of(callback)["state"] == state
        token = oauth.fetch_token(f"{base}/oauth/token", authorization_response=callback, code_verifier=verifier)
        assert token["expires_in"] == 3600
        schools = oauth.get(f"{base}/user/me/schools")
        assert schools.status_code == 200
        assert [school["id"] for school in schools.json()["data"]] == ["3001", "2301"]
        renewed = oauth.refresh_token(f"{base}/oauth/token")  # a public client refreshes with no secret
        assert renewed["refresh_token"] != token["refresh_token"]
        assert oauth.get(f"{base}/user/me/basic").json()["data"]["first_name"] == "Kati"
