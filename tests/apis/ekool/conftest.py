"""eKool test helpers: the demo data, an HTML form reader, and a driver for the login → consent flow."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.testclient import TestClient

from harness.conformance.login import Form, parse_forms
from harness.server import HarnessApp

DEMO_CLIENT = "ekooldemoclient00000000000000001"
DEMO_SECRET = "ekooldemosecret0000000000000000000000001"
BASIC_CLIENT = "ekoolbasicclient0000000000000002"
BASIC_SECRET = "ekoolbasicsecret000000000000000000000002"
REDIRECT = "http://127.0.0.1:5173/callback"  # registered as http://127.0.0.1/callback: any port matches
LOCALHOST_REDIRECT = "http://localhost:3000/callback"
ALL_SCOPES = "users-basic users-roles users-schools users-children"
MARI_ID, JUHAN_ID = 100001, 100002


def read_form(page: str) -> Form:
    forms = parse_forms(page)
    assert len(forms) == 1, "the page has exactly one form"
    return forms[0]


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query, keep_blank_values=True).items()}


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a JWT, keys in the order they were written."""
    from harness.crypto.tokens import b64url_decode

    head, body, _ = token.split(".")
    return json.loads(b64url_decode(head)), json.loads(b64url_decode(body))


class Flow:
    """Drives the authorization server like a browser plus a backend (works with TestClient or httpx)."""

    def __init__(self, http: httpx.Client | TestClient) -> None:
        self.http = http

    def authorize(self, **params: str) -> httpx.Response:
        base = {"response_type": "code", "client_id": DEMO_CLIENT, "redirect_uri": REDIRECT, "scope": ALL_SCOPES}
        query = {k: v for k, v in {**base, **params}.items() if v is not None}
        return self.http.get("/oauth/authorize", params=query, follow_redirects=False)

    def login_page(self, **params: str) -> httpx.Response:
        """A guest's authorization request: 302 to the login page (Passport), which is fetched."""
        sent = self.authorize(**params)
        assert sent.status_code == 302 and sent.headers["location"].endswith("/login"), sent.text
        page = self.http.get(sent.headers["location"], follow_redirects=False)
        assert page.status_code == 200 and 'name="password"' in page.text, page.text
        return page

    def is_sent_to_log_in(self, **params: str) -> bool:
        sent = self.authorize(**params)
        return sent.status_code == 302 and sent.headers["location"].endswith("/login")

    def login(self, page: httpx.Response, username: str = "mari", password: str | None = None) -> httpx.Response:
        form = read_form(page.text)
        data = {**form.fields, "username": username, "password": username if password is None else password}
        return self.http.post(form.action, data=data, follow_redirects=False)

    def consent_page(self, **params: str) -> httpx.Response:
        """Log in if need be and come back to the consent page (`prompt=consent` unless given: a returning
        user with a valid token would otherwise skip it, as with Passport)."""
        username = params.pop("username", "mari")
        params.setdefault("prompt", "consent")
        page = self.authorize(**params)
        if page.status_code == 302 and page.headers["location"].endswith("/login"):
            back = self.login(self.http.get(page.headers["location"]), username)
            assert back.status_code == 302, back.text
            page = self.http.get(back.headers["location"], follow_redirects=False)
        assert page.status_code == 200 and 'value="approve"' in page.text, page.text
        return page

    def decide(self, page: httpx.Response, decision: str) -> httpx.Response:
        form = read_form(page.text)
        return self.http.post(form.action, data={**form.fields, "decision": decision}, follow_redirects=False)

    def code(self, username: str = "mari", **params: str) -> str:
        answer = self.decide(self.consent_page(username=username, **params), "approve")
        assert answer.status_code == 302, answer.text
        return query_of(answer.headers["location"])["code"]

    def token(self, **form: str | None) -> httpx.Response:
        data = {k: v for k, v in form.items() if v is not None}
        return self.http.post("/oauth/token", data=data)

    def exchange(self, code: str, **overrides: str | None) -> httpx.Response:
        base: dict[str, str | None] = {"grant_type": "authorization_code", "client_id": DEMO_CLIENT,
                                       "client_secret": DEMO_SECRET, "redirect_uri": REDIRECT, "code": code}
        return self.token(**{**base, **overrides})

    def tokens(self, username: str = "mari", scope: str = ALL_SCOPES, client_id: str = DEMO_CLIENT,
               secret: str = DEMO_SECRET) -> dict[str, Any]:
        code = self.code(username, scope=scope, client_id=client_id)
        answer = self.exchange(code, client_id=client_id, client_secret=secret)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def refresh(self, refresh_token: str, **overrides: str | None) -> httpx.Response:
        base: dict[str, str | None] = {"grant_type": "refresh_token", "client_id": DEMO_CLIENT,
                                       "client_secret": DEMO_SECRET, "refresh_token": refresh_token}
        return self.token(**{**base, **overrides})

    def get(self, path: str, token: str | None = None, **headers: str) -> httpx.Response:
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.get(path, headers=headers)


@pytest.fixture
def flow(client: TestClient) -> Flow:
    return Flow(client)


@pytest.fixture
def with_client(app: HarnessApp) -> Callable[..., None]:
    """Register an extra eKool client directly in the store (e.g. one with a single redirect URI)."""
    from harness.apis.ekool.demo import digest

    def register(client_id: str, secret: str, redirect_uris: list[str], scopes: list[str]) -> None:
        app.ctx.store.execute(
            "INSERT INTO ekool_clients (id, name, secret_hash, redirect_uris, scopes) VALUES (?, ?, ?, ?, ?)",
            (client_id, "Extra client", digest(secret), json.dumps(redirect_uris), json.dumps(scopes)),
        )

    return register
