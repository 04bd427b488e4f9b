"""Sunbird on the landing page and in its Swagger UI: the gateway credentials with a ready Bearer each (the
auth-token generator's token), the realm user, and the three requests of a device's flow as curl commands."""

from __future__ import annotations

import json
import shlex
from typing import Any

from harness import authtoken
from harness.apis.sunbird.demo import StartingData, starting_data
from harness.apis.sunbird.gateway import operation_groups
from harness.plugins import Landing, Shown, SwaggerUiSetup
from harness.runtime import Context
from harness.specs import load_spec
from harness.userdata import seed_data

SUMMARY = ("Sunbird's API Manager behind its Kong gateway: apps and devices register JWT credentials and get "
           "tokens (v1 HS256, v2 RS256), devices refresh access tokens, and a Keycloak-style realm hands out the "
           "refresh tokens. Every gated call needs a gateway Bearer made from a credential's key and secret.")
REGISTER_V2 = "registerCredentialV2"
REALM_TOKEN = "/auth/realms/sunbird/protocol/openid-connect/token"


def _plugin() -> Any:
    from harness.apis.sunbird import PLUGIN

    return PLUGIN


def registrable(groups: tuple[str, ...], start: StartingData) -> list[str]:
    """The consumers a credential in `groups` registers with v2: the gateway lets it through (the spec's ACL)
    and the consumer has a signing key for the token (else the service answers 500)."""
    return [consumer.name for consumer in start.consumers if consumer.signing_keys
            and operation_groups(REGISTER_V2, {"consumer": consumer.name}) & set(groups)]


def example_consumer() -> str:
    """The consumer Swagger UI's Try it out fills in: the spec's first example of the path parameter."""
    examples = load_spec("sunbird")["components"]["parameters"]["Consumer"]["examples"]
    return next(iter(examples.values()))["value"]


def demo_bearers(ctx: Context) -> list[tuple[str, tuple[str, ...], str, list[str]]]:
    """(credential key, groups, Bearer, consumers it registers) of every credential whose secret is the demo's,
    not a config file's."""
    data = seed_data(ctx.settings, _plugin())
    own = {c["key"] for c in data.entries.get("credentials", [])}
    start = starting_data(data)
    return [(key, consumer.groups, authtoken.generate(key, secret), registrable(consumer.groups, start))
            for consumer in start.consumers for key, secret in consumer.credentials if key not in own]


def swagger_ui(ctx: Context, origin: str) -> SwaggerUiSetup:
    """Every demo Bearer one click away; first the one Try it out's example consumer accepts."""
    example = example_consumer()
    bearers = sorted(demo_bearers(ctx), key=lambda bearer: example not in bearer[3])
    return SwaggerUiSetup(bearers=tuple((f"{key} ({', '.join(groups)})", "bearerAuth", token)
                                        for key, groups, token, _ in bearers))


def _curl(url: str, *options: str) -> str:
    return " ".join(["curl -s", *options, shlex.quote(url)])


def _form(fields: dict[str, str]) -> list[str]:
    return [f"--data-urlencode {shlex.quote(f'{name}={value}')}" for name, value in fields.items()]


def landing(ctx: Context, origin: str) -> Landing:
    data = seed_data(ctx.settings, _plugin())
    start = starting_data(data)
    own_keys = {c["key"] for c in data.entries.get("credentials", [])}
    own_users = {u["username"] for u in data.entries.get("realm_users", [])}
    credentials: list[Shown] = []
    for consumer in start.consumers:
        for key, secret in consumer.credentials:
            note = f"consumer {consumer.name}, groups {', '.join(consumer.groups)}"
            credentials += [Shown(f"sunbird-key-{key}", f"{consumer.name}: key", key, note),
                            Shown(f"sunbird-secret-{key}", f"{consumer.name}: secret",
                                  "(in the config file)" if key in own_keys else secret)]
    for user in start.realm_users:
        credentials.append(Shown(f"sunbird-realm-{user['username']}", f"realm user {user['username']}: password",
                                 "(in the config file)" if user["username"] in own_users else user["password"],
                                 f"client {', '.join(start.realm_clients)}"))
    api = f"{origin}/api"
    example = example_consumer()
    ready: list[Shown] = []
    device_bearer = ""
    for key, groups, token, allowed in demo_bearers(ctx):
        ready.append(Shown(f"sunbird-bearer-{key}", f"Bearer of {key}", token,
                           f"groups {', '.join(groups)}; registers (v2) " + (", ".join(allowed) or "no consumer")))
        if example in allowed and not device_bearer:
            device_bearer = token
    realm_user = next((u for u in start.realm_users if u["username"] not in own_users), None)
    if realm_user and start.realm_clients:
        ready.append(Shown("sunbird-curl-realm", "1. a refresh token from the realm (refresh_token in the answer)",
                           _curl(origin + REALM_TOKEN, *_form({
                               "grant_type": "password", "client_id": start.realm_clients[0],
                               "username": realm_user["username"], "password": realm_user["password"],
                               "scope": "offline_access"}))))
    if device_bearer:
        body = json.dumps({"request": {"key": "my-device-1"}})
        ready.append(Shown("sunbird-curl-register", f"2. register a {example} (result.token in the answer)",
                           _curl(f"{api}/api-manager/v2/consumer/{example}/credential/register", "-X POST",
                                 f"-H {shlex.quote('Authorization: Bearer ' + device_bearer)}",
                                 "-H 'Content-Type: application/json'", f"-d {shlex.quote(body)}")))
        ready.append(Shown("sunbird-curl-refresh", "3. refresh (replace DEVICE_TOKEN and REFRESH_TOKEN)",
                           _curl(f"{api}/auth/v1/refresh/token", "-H 'Authorization: Bearer DEVICE_TOKEN'",
                                 *_form({"refresh_token": "REFRESH_TOKEN"}))))
    docs = _plugin().docs_prefix
    first_user = realm_user["username"] if realm_user else "a realm user"
    steps = (
        ("Open Swagger UI and Authorize",
         f"The Authorize dialog already holds a demo Bearer that may register {example}; the bar above the UI "
         "switches to another credential. Try it out on POST /api-manager/v2/consumer/{consumer}/credential/register.",
         f"{origin}{docs}/ui/"),
        ("Run the login flow as a demo user",
         f"Log in to the realm as {first_user}, register a device and refresh its access token: the three "
         "commands below, in order.", ""),
        ("Point an app at the base URL",
         f"{api} is the gateway's public prefix (like https://staging.open-sunbird.org/api); the same operations "
         f"answer at {origin} without it.", ""),
    )
    return Landing(
        summary=SUMMARY, base_urls=(api, origin), steps=steps, credentials=tuple(credentials), ready=tuple(ready),
        links=(("Swagger UI", f"{docs}/ui/"), ("openapi.json", f"{docs}/openapi.json"),
               ("openapi.yaml", f"{docs}/openapi.yaml"), ("JWKS (v2 token keys)", "/.well-known/jwks.json"),
               ("realm OpenID configuration", "/auth/realms/sunbird/.well-known/openid-configuration")))
