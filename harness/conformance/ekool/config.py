"""The `[ekool]` table of the conformance config; the defaults are the demo data of `harness serve`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.conformance.apis import demo_data
from harness.conformance.config import check_keys


def _demo(field_name: str) -> Any:
    """A default from the demo data (fixtures/ekool/demo/): its first two clients and first user."""
    first, second = demo_data("ekool", "clients.yaml")["clients"][:2]
    user = demo_data("ekool", "users.yaml")["users"][0]
    return {"client_id": first["id"], "client_secret": first["secret"], "redirect_uri": first["redirect_uris"][0],
            "other_redirect_uri": first["redirect_uris"][1], "other_client_id": second["id"],
            "other_client_secret": second["secret"], "username": user["username"], "password": user["password"],
            "scopes": tuple(first["scopes"])}[field_name]


def _default(name: str) -> Any:
    return field(default_factory=lambda: _demo(name))


@dataclass(frozen=True)
class EkoolConfig:
    client_id: str = _default("client_id")
    client_secret: str = _default("client_secret")
    redirect_uri: str = _default("redirect_uri")
    # Another URI the client registered: a code issued for `redirect_uri` must not work with it.
    other_redirect_uri: str | None = _default("other_redirect_uri")
    # A second client, used to prove codes and refresh tokens are bound to their client.
    other_client_id: str | None = _default("other_client_id")
    other_client_secret: str | None = _default("other_client_secret")
    # A test user, logged in through the HTML login and consent forms; or a given refresh token.
    username: str | None = _default("username")
    password: str | None = _default("password")
    refresh_token: str | None = None
    scopes: tuple[str, ...] = _default("scopes")
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
