"""Whole flows over HTTP: real OAuth 2.0 client libraries against a live server; refusals on the wire; two
workers sharing the state and a restart keeping it (issue 4, must show)."""

from __future__ import annotations

import secrets
from urllib.parse import urljoin

import httpx
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from requests_oauthlib import OAuth2Session as OAuthlibSession
from starlette.testclient import TestClient

from harness.testing.live import ProcessServer

from .conftest import (
    ALL_SCOPES,
    BASIC_CLIENT,
    BASIC_SECRET,
    DEMO_CLIENT,
    DEMO_SECRET,
    Flow,
    jwt_parts,
    query_of,
    read_form,
)


def log_in_and_approve(authorize_url: str, username: str = "mari", password: str | None = None) -> str:
    """The user's browser: log in, approve, and return where the server sends it back (not followed)."""
    with requests.Session() as browser:
        page = browser.get(authorize_url)  # a guest: 302 to the login page, followed as a browser does
        assert page.status_code == 200 and page.url.endswith("/login"), page.text
        login = read_form(page.text)
        consent = browser.post(urljoin(page.url, login.action),
                               data={**login.fields, "username": username, "password": password or username})
        assert consent.status_code == 200 and "Authorization request" in consent.text, consent.text
        form = read_form(consent.text)
        back = browser.post(urljoin(consent.url, form.action), data={**form.fields, "decision": "approve"},
                            allow_redirects=False)
        assert back.status_code == 302
        return back.headers["Location"]


def test_authlib_completes_the_flow_with_pkce_and_refreshes(live_server, monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the mock is plain http on 127.0.0.1
    base = live_server.url
    redirect_uri = f"http://127.0.0.1:{live_server.port + 1}/callback"
    oauth = AuthlibSession(DEMO_CLIENT, DEMO_SECRET, scope=ALL_SCOPES, redirect_uri=redirect_uri,
                           code_challenge_method="S256", token_endpoint_auth_method="client_secret_post")
    verifier = secrets.token_urlsafe(48)
    url, state = oauth.create_authorization_url(f"{base}/oauth/authorize", code_verifier=verifier)
    callback = log_in_and_approve(url)
    assert callback.startswith(redirect_uri) and query_of(callback)["state"] == state
    token = oauth.fetch_token(f"{base}/oauth/token", authorization_response=callback, code_verifier=verifier)
    assert token["token_type"] == "Bearer" and token["expires_in"] == 604800
    first_access = token["access_token"]
    general = oauth.get(f"{base}/generaldata")
    assert general.status_code == 200 and general.json()["username"] == "mari"
    assert len(oauth.get(f"{base}/user/me/children").json()["data"]) == 2

    refreshed = oauth.refresh_token(f"{base}/oauth/token")
    assert refreshed["access_token"] != first_access
    assert oauth.get(f"{base}/user/me/basic").json()["data"]["first_name"] == "Mari"
    old = requests.get(f"{base}/generaldata", headers={"Authorization": f"Bearer {first_access}"})
    assert old.status_code == 401 and old.json()["hint"] == "Access token has been revoked"


def test_requests_oauthlib_with_http_basic_client_auth(live_server, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    base = live_server.url
    oauth = OAuthlibSession(BASIC_CLIENT, redirect_uri="http://localhost:3000/callback", scope=["users-basic"])
    url, state = oauth.authorization_url(f"{base}/oauth/authorize")
    callback = log_in_and_approve(url, "juhan")
    assert query_of(callback)["state"] == state
    token = oauth.fetch_token(f"{base}/oauth/token", authorization_response=callback, client_secret=BASIC_SECRET)
    assert jwt_parts(token["access_token"])[1]["scopes"] == ["users-basic"]
    assert oauth.get(f"{base}/user/me/basic").json()["data"]["last_name"] == "Kask"
    assert oauth.get(f"{base}/user/me/roles").status_code == 403
    renewed = oauth.refresh_token(f"{base}/oauth/token", auth=requests.auth.HTTPBasicAuth(BASIC_CLIENT, BASIC_SECRET))
    assert renewed["refresh_token"] != token["refresh_token"]


def test_code_reuse_redirect_mismatch_and_cross_client_are_refused_over_http(live_server):
    with httpx.Client(base_url=live_server.url) as http:
        flow = Flow(http)
        code = flow.code()
        assert flow.exchange(code, client_id=BASIC_CLIENT, client_secret=BASIC_SECRET).json()["hint"] == \
            "Authorization code was not issued to this client"
        assert flow.exchange(code, redirect_uri="http://localhost:3000/callback").json()["hint"] == \
            "Invalid redirect URI"
        assert flow.exchange(code).status_code == 200
        reused = flow.exchange(code)
        assert reused.status_code == 400 and reused.json()["hint"] == "Authorization code has been revoked"


@pytest.mark.slow
def test_two_workers_share_sessions_codes_and_tokens(state_dir):
    with ProcessServer(state_dir, 2) as server, httpx.Client(base_url=server.url) as http:
        flow = Flow(http)
        pairs = [flow.tokens() for _ in range(3)]  # new connections: the kernel spreads them over both workers
        for pair in pairs:
            assert flow.get("/user/me/schools", pair["access_token"]).status_code == 200
        spent = flow.code()
        assert flow.exchange(spent).status_code == 200
        assert flow.exchange(spent).json()["hint"] == "Authorization code has been revoked"
        rotated = flow.refresh(pairs[0]["refresh_token"]).json()
        assert flow.get("/generaldata", pairs[0]["access_token"]).json()["hint"] == "Access token has been revoked"
        assert flow.get("/generaldata", rotated["access_token"]).status_code == 200


def test_a_restarted_server_keeps_sessions_codes_and_tokens(make_app):
    """Nothing lives in process memory: a new app on the same state directory carries on."""
    with TestClient(make_app(), base_url="http://127.0.0.1:8000") as before:
        flow = Flow(before)
        pair = flow.tokens()
        code = flow.code()
        cookies = dict(before.cookies)
    with TestClient(make_app(), base_url="http://127.0.0.1:8000", cookies=cookies) as after:
        flow = Flow(after)
        assert flow.get("/generaldata", pair["access_token"]).status_code == 200
        assert flow.refresh(pair["refresh_token"]).status_code == 200
        assert flow.exchange(code).status_code == 200
        assert 'value="approve"' in flow.authorize(prompt="consent").text, "the signed session cookie is still accepted"
