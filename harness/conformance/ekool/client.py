"""An eKool OAuth 2.0 client as a web backend and its user's browser behave, over HTTP only.

The user logs in and consents through the target's HTML forms (`login.authorize_via_forms`), the backend
exchanges codes and refresh tokens at the token endpoint and calls the resource API with the access token.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

import httpx

from harness.conformance.config import ConformConfig
from harness.conformance.ekool.config import EkoolConfig
from harness.conformance.login import LoginError, Redirect, authorize_via_forms
from harness.conformance.transport import Transport
from harness.specs import load_spec, operations, path_of

AUTHORIZE = path_of("ekool", "authorize")
TOKEN = path_of("ekool", "issueToken")


def _resource_scopes() -> dict[str, str]:
    """Resource path → the scope it needs: every operation with an `ekool_oauth` requirement (seeds/002)."""
    return {path: requirement["ekool_oauth"][0] for _, path, op in operations(load_spec("ekool"))
            for requirement in op.get("security", []) if requirement.get("ekool_oauth")}


RESOURCE_SCOPES = _resource_scopes()
RESOURCE_OPERATIONS = tuple(op["operationId"] for _, _, op in operations(load_spec("ekool"))
                            if any(r.get("ekool_oauth") for r in op.get("security", [])))


class ClientError(RuntimeError):
    """The target did not give what a well-behaved client needs to go on."""


@dataclass(frozen=True)
class Pkce:
    verifier: str
    method: str = "S256"

    @classmethod
    def new(cls, method: str = "S256") -> Pkce:
        return cls(secrets.token_urlsafe(48), method)

    @property
    def challenge(self) -> str:
        if self.method == "plain":
            return self.verifier
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()  # RFC 7636 §4.2


class EkoolClient:
    def __init__(self, config: ConformConfig, transport: Transport) -> None:
        self.config = config
        self.ekool: EkoolConfig = config.ekool
        self.login = transport.sibling(self.ekool.login_base(config.target))
        self.api = transport.sibling(self.ekool.api_base(config.target))
        for value, name in ((self.ekool.client_secret, "EKOOL_CLIENT_SECRET"),
                            (self.ekool.other_client_secret, "EKOOL_OTHER_CLIENT_SECRET"),
                            (self.ekool.password, "EKOOL_PASSWORD"),
                            (self.ekool.refresh_token, "EKOOL_REFRESH_TOKEN")):
            transport.secrets.add(value, name)

    def authorize_query(
        self, *, client_id: str | None = None, redirect_uri: str | None = None,
        scopes: tuple[str, ...] | None = None, state: str | None = None, pkce: Pkce | None = None,
    ) -> str:
        params = {
            "response_type": "code",
            "client_id": client_id or self.ekool.client_id,
            "redirect_uri": redirect_uri or self.ekool.redirect_uri,
            "scope": " ".join(self.ekool.scopes if scopes is None else scopes),
        }
        if state is not None:
            params["state"] = state
        if pkce is not None:
            params.update(code_challenge=pkce.challenge, code_challenge_method=pkce.method)
        return f"{AUTHORIZE}?{urlencode(params)}"

    def authorize(self, **kwargs: Any) -> Redirect:
        """The redirect back to the client after the user logs in and approves (a fresh browser)."""
        response = self.browse(f"{self.login.base_url}{self.authorize_query(**kwargs)}")
        return Redirect(response.headers["location"])

    def browse(self, authorize_url: str) -> httpx.Response:
        """Log in and approve from `authorize_url`; the redirect back to the client, as a response."""
        if not (self.ekool.username and self.ekool.password):
            raise ClientError("config gives no eKool test user (ekool.username / ekool.password)")
        redirect_uri = httpx.URL(authorize_url).params.get("redirect_uri") or self.ekool.redirect_uri
        with self.login.session() as browser:
            try:
                redirect = authorize_via_forms(browser.client, authorize_url, redirect_uri,
                                               self.ekool.username, self.ekool.password)
            except LoginError as exc:
                raise ClientError(f"login through the forms failed: {exc}") from exc
        return httpx.Response(302, headers={"Location": redirect.location},
                              request=httpx.Request("GET", authorize_url))

    def code(self, **kwargs: Any) -> str:
        redirect = self.authorize(**kwargs)
        code = redirect.params.get("code")
        if not code:
            raise ClientError(f"authorize did not answer with a code: {redirect.location}")
        self.login.secrets.add(code, "EKOOL_CODE")
        return code

    def client_credentials(self, other: bool = False) -> dict[str, str]:
        if not other:
            return {"client_id": self.ekool.client_id, "client_secret": self.ekool.client_secret}
        if not (self.ekool.other_client_id and self.ekool.other_client_secret):
            raise ClientError("config gives no second eKool client (ekool.other_client_id / other_client_secret)")
        return {"client_id": self.ekool.other_client_id, "client_secret": self.ekool.other_client_secret}

    def exchange(self, code: str, *, redirect_uri: str | None = None, other_client: bool = False,
                 verifier: str | None = None, **extra: str) -> httpx.Response:
        data = {"grant_type": "authorization_code", **self.client_credentials(other_client), "code": code,
                "redirect_uri": redirect_uri or self.ekool.redirect_uri, **extra}
        if verifier is not None:
            data["code_verifier"] = verifier
        return self.login.post(TOKEN, data=data)

    def refresh(self, refresh_token: str, *, other_client: bool = False, scope: str | None = None) -> httpx.Response:
        data = {"grant_type": "refresh_token", **self.client_credentials(other_client), "refresh_token": refresh_token}
        if scope is not None:
            data["scope"] = scope
        return self.login.post(TOKEN, data=data)

    def tokens(self, scopes: tuple[str, ...] | None = None) -> dict[str, Any]:
        """A fresh token pair: from the code flow with a test user, else from the configured refresh token."""
        if self.ekool.username and self.ekool.password:
            response = self.exchange(self.code(scopes=scopes))
        elif self.ekool.refresh_token and scopes is None:
            response = self.refresh(self.ekool.refresh_token)
        else:
            raise ClientError("config gives no eKool test user; a given refresh token cannot narrow scopes")
        if response.status_code != 200:
            raise ClientError(f"token endpoint: {response.status_code} {response.text[:300]}")
        body = response.json()
        for name in ("access_token", "refresh_token"):
            self.login.secrets.add(body.get(name), f"EKOOL_{name.upper()}")
        return body

    def resource(self, path: str, access_token: str | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {access_token}"} if access_token is not None else {}
        return self.api.get(path, headers=headers)

    @cached_property
    def jwks(self) -> dict[str, Any]:
        response = self.login.get(self.ekool.jwks_path)
        if response.status_code != 200:
            raise ClientError(f"JWKS at {self.ekool.jwks_path}: {response.status_code}")
        return response.json()

    # --- harness.conformance.apis.ConformanceClient --------------------------------------------------------

    def schema_targets(self) -> list[tuple[str, Any]]:
        """The authorization server and the resource API may be two hosts."""
        if self.login.base_url == self.api.base_url:
            return [(self.api.base_url, lambda schema: schema)]
        return [
            (self.login.base_url, lambda schema: schema.include(path_regex="^/(oauth|\\.well-known)")),
            (self.api.base_url, lambda schema: schema.exclude(path_regex="^/(oauth|\\.well-known)")),
        ]

    def identity_for(self, case: Any) -> str | None:
        return "user" if case.operation.path in RESOURCE_SCOPES else None

    def token_for(self, identity: str) -> str:
        return self.tokens()["access_token"]

    def transport_for(self, path: str) -> Transport:
        return self.login if path.startswith(("/oauth", "/.well-known")) else self.api

    def variables(self) -> dict[str, Any]:
        """Sources of `{{name}}` in eKool fixtures (fixtures/ekool/README.md); callables give fresh values."""
        return {
            "ekool_client_id": self.ekool.client_id,
            "ekool_client_secret": self.ekool.client_secret,
            "ekool_redirect_uri": self.ekool.redirect_uri,
            "ekool_code": self.code,
            "ekool_access_token": lambda: self.tokens()["access_token"],
            "ekool_refresh_token": lambda: self.tokens()["refresh_token"],
        }
