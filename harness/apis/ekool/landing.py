"""eKool on the landing page and in its Swagger UI: the demo clients and users, a whole authorize URL for each
client, the token request to finish the flow, and the public client the UI's Authorize dialog logs in with."""

from __future__ import annotations

import base64
import hashlib
import secrets
import shlex
from typing import Any
from urllib.parse import urlencode

from harness.apis.ekool.clients import redirect_uri_registered
from harness.apis.ekool.demo import PUBLIC, Client, digest, own_redirect_uris, starting_data
from harness.plugins import Landing, Shown, SwaggerUiSetup
from harness.runtime import Context
from harness.userdata import seed_data

SUMMARY = ("eKool's OAuth 2.0 authorization server (Laravel Passport on league/oauth2-server 8: login and consent "
           "pages, authorization codes with PKCE, refresh tokens) and its resource API, whose answers depend on "
           "the scopes the user approved.")


def _plugin() -> Any:
    from harness.apis.ekool import PLUGIN

    return PLUGIN


def _starting(ctx: Context) -> tuple[list[dict[str, Any]], list[dict[str, Any]], set[str]]:
    """Clients and users as seeded, and the ids and usernames whose secrets are a config file's own."""
    data = seed_data(ctx.settings, _plugin())
    clients, users = starting_data(data)
    own = {c["id"] for c in data.entries.get("clients", [])} | {u["username"] for u in data.entries.get("users", [])}
    return clients, users, own


def _as_client(entry: dict[str, Any], ctx: Context) -> Client:
    return Client(entry["id"], entry["name"], digest(entry["secret"]) if entry.get("secret") else PUBLIC,
                  own_redirect_uris(entry["redirect_uris"], ctx.settings), tuple(entry["scopes"]))


def ui_redirect_uri(origin: str) -> str:
    return f"{origin}{_plugin().docs_prefix}/ui/oauth2-redirect.html"


def ui_client(ctx: Context, origin: str) -> Client | None:
    """The client Swagger UI at `origin` logs in with: one registered for its redirect page, public first."""
    fitting = [client for entry in _starting(ctx)[0] if redirect_uri_registered(
        ui_redirect_uri(origin), client := _as_client(entry, ctx))]
    return min(fitting, key=lambda client: not client.public, default=None)


def swagger_ui(ctx: Context, origin: str) -> SwaggerUiSetup:
    client = ui_client(ctx, origin)
    if client is None:
        return SwaggerUiSetup(notice=f"Authorize cannot log in here: no client has {ui_redirect_uri(origin)} as a "
                                     f"redirect URI. Start the server with --public-url {origin}.")
    options: dict[str, Any] = {"clientId": client.id, "usePkceWithAuthorizationCodeGrant": True,
                               "scopes": " ".join(client.scopes), "appName": client.name}
    if not client.public:
        options["clientSecret"] = _secret_of(ctx, client.id) or ""
    return SwaggerUiSetup(init_oauth=options)


def _secret_of(ctx: Context, client_id: str) -> str | None:
    clients, _, own = _starting(ctx)
    return next((c.get("secret") for c in clients if c["id"] == client_id and c["id"] not in own), None)


def pkce_pair() -> tuple[str, str]:
    """A fresh code_verifier and its S256 code_challenge (RFC 7636 4.1, 4.2)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def redirect_uri_for(client: Client, origin: str) -> str:
    """The redirect URI a ready-made URL of `client` uses: this server's UI page if registered, else its first."""
    here = ui_redirect_uri(origin)
    return here if redirect_uri_registered(here, client) else client.redirect_uris[0]


def authorize_url(origin: str, client: Client, challenge: str | None) -> str:
    query = {"response_type": "code", "client_id": client.id, "redirect_uri": redirect_uri_for(client, origin),
             "scope": " ".join(client.scopes), "state": "demo"}
    if challenge:
        query |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return f"{origin}/oauth/authorize?{urlencode(query)}"


def token_command(origin: str, client: Client, secret: str | None, verifier: str | None) -> str:
    """The token request that finishes the flow, as curl; CODE is the `code` the redirect carried."""
    fields = [("grant_type", "authorization_code"), ("client_id", client.id)]
    fields += [("client_secret", secret)] if secret else [("code_verifier", verifier or "")]
    fields += [("redirect_uri", redirect_uri_for(client, origin)), ("code", "CODE")]
    data = " ".join(f"--data-urlencode {shlex.quote(f'{name}={value}')}" for name, value in fields)
    return f"curl -s {shlex.quote(origin + '/oauth/token')} {data}"


def landing(ctx: Context, origin: str) -> Landing:
    clients, users, own = _starting(ctx)
    docs = _plugin().docs_prefix
    credentials: list[Shown] = []
    ready: list[Shown] = []
    first_login = ""
    for entry in clients:
        client = _as_client(entry, ctx)
        secret = None if client.id in own else entry.get("secret")
        credentials.append(Shown(f"ekool-client-{client.id}", f"{client.name}: client_id", client.id,
                                 ("public client: PKCE, no secret; " if client.public else "")
                                 + "scopes " + " ".join(client.scopes)))
        if secret:
            credentials.append(Shown(f"ekool-secret-{client.id}", f"{client.name}: client_secret", secret))
        verifier, challenge = pkce_pair() if client.public else (None, None)
        login = authorize_url(origin, client, challenge)
        first_login = first_login or login
        ready.append(Shown(f"ekool-authorize-{client.id}", f"Log in to {client.name}", login,
                           f"then the browser goes to {redirect_uri_for(client, origin)}?code=…", link=True))
        if client.id not in own or client.public:
            if verifier:
                ready.append(Shown(f"ekool-verifier-{client.id}", f"{client.name}: code_verifier of that URL",
                                   verifier))
            ready.append(Shown(f"ekool-token-{client.id}", f"{client.name}: exchange the code (replace CODE)",
                               token_command(origin, client, secret, verifier)))
    for user in users:
        password = "(in the config file)" if user["username"] in own else user["password"]
        credentials.append(Shown(f"ekool-user-{user['username']}", f"user {user['username']}: password", password,
                                 " ".join(filter(None, (user.get("first_name"), user.get("last_name"))))))
    first_user = users[0]["username"] if users else "a user"
    code_minutes = round(_plugin().lifetime(ctx.settings, "ekool_code") / 60)
    steps = (
        ("Open Swagger UI and Authorize",
         f"Click Authorize: the client and its scopes are filled in. Log in as {first_user}, approve, close the "
         "dialog, then Try it out on GET /user/me/basic.", f"{origin}{docs}/ui/"),
        ("Run the login flow as a demo user",
         f"Open an authorize URL below, log in as {first_user} (password below) and approve: the browser goes on "
         "to the app's redirect URI, the code in its query. Exchange it with the token request below; a code "
         f"works once, for {code_minutes} minutes.", first_login),
        ("Point an app at the base URL",
         f"Both of the Postman collection's hosts, login_url and api_url, are {origin} here.", ""),
    )
    if ctx.settings.auto_login:
        steps += (("Auto-login", f"--auto-login {ctx.settings.auto_login}: authorize answers with a code at once "
                   "(when the user exists), without the login page.", ""),)
    return Landing(
        summary=SUMMARY, base_urls=(origin,), steps=steps, credentials=tuple(credentials), ready=tuple(ready),
        links=(("Swagger UI", f"{docs}/ui/"), ("openapi.json", f"{docs}/openapi.json"),
               ("openapi.yaml", f"{docs}/openapi.yaml"), ("JWKS (access-token keys)", "/.well-known/jwks.json")))
