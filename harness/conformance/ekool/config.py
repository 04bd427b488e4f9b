"""The `[ekool]` table of the conformance config; the defaults are the demo data of `harness serve`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.conformance.config import check_keys

EKOOL_SCOPES = ("users-basic", "users-roles", "users-schools", "users-children")


@dataclass(frozen=True)
class EkoolConfig:
    client_id: str = "ekooldemoclient00000000000000001"
    client_secret: str = "ekooldemosecret0000000000000000000000001"
    redirect_uri: str = "http://localhost:3000/callback"
    # Another URI the client registered: a code issued for `redirect_uri` must not work with it.
    other_redirect_uri: str | None = "http://127.0.0.1/callback"
    # A second client, used to prove codes and refresh tokens are bound to their client.
    other_client_id: str | None = "ekoolbasicclient0000000000000002"
    other_client_secret: str | None = "ekoolbasicsecret000000000000000000000002"
    # A test user, logged in through the HTML login and consent forms; or a given refresh token.
    username: str | None = "mari"
    password: str | None = "mari"
    refresh_token: str | None = None
    scopes: tuple[str, ...] = EKOOL_SCOPES
    # eKool serves the authorization server and the resource API on two hosts; None: the target.
    login_url: str | None = None
    api_url: str | None = None
    # Where the access tokens' public keys are published, on the login host.
    jwks_path: str = "/.well-known/jwks.json"
    # A redirect URI no client registers; the server must never send the browser there.
    unregistered_redirect_uri: str = "https://attacker.invalid/callback"


    def login_base(self, target: str) -> str:
        return (self.login_url or target).rstrip("/")

    def api_base(self, target: str) -> str:
        return (self.api_url or target).rstrip("/")


def parse_ekool(data: dict[str, Any]) -> EkoolConfig:
    values = check_keys(EkoolConfig, data, "ekool")
    if "scopes" in values:
        values["scopes"] = tuple(values["scopes"])
    return EkoolConfig(**values)
