"""Client checks shared by the authorize and token endpoints: redirect URI matching and client authentication."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from harness.apis.ekool import oauth_errors
from harness.apis.ekool.demo import Client, find_client
from harness.runtime import Context

_LOOPBACK_HOSTS = ("127.0.0.1", "[::1]")


def _without_port(uri: str) -> str | None:
    """`uri` with its port removed when it is an http loopback URI (league's RedirectUriValidator), else None."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme != "http" or host is None:
        return None
    netloc_host = f"[{host}]" if ":" in host else host
    if netloc_host not in _LOOPBACK_HOSTS:
        return None
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{netloc_host}" if userinfo else netloc_host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def redirect_uri_registered(uri: str, client: Client) -> bool:
    """Exact string match, except that the port of an http://127.0.0.1 or http://[::1] URI is ignored."""
    if uri in client.redirect_uris:
        return True
    portless = _without_port(uri)
    return portless is not None and portless in {_without_port(r) or r for r in client.redirect_uris}


def basic_credentials(username: str, password: str) -> dict[str, str]:
    """x-basicInfoFunc of the token endpoint's optional Basic scheme.

    connexion only documents the scheme here: `security: [{}, {clientBasic: []}]` accepts every request, and
    the grant authenticates the client itself (body first, Basic as fallback) so the error order is league's.
    """
    return {"sub": username}


def _basic(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    value = headers.get("authorization", "")
    if not value.startswith("Basic "):
        return None, None
    try:
        decoded = base64.b64decode(value[6:], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    if ":" not in decoded:
        return None, None
    user, _, password = decoded.partition(":")
    return user, password


def authenticate(
    ctx: Context, form: Mapping[str, str], headers: Mapping[str, str], redirect_uri: str | None, grant_type: str
) -> Client:
    """league's validateClient: client_id (body, else Basic user), secret, then a registered redirect_uri.

    A public client: Passport's validateClient passes it whatever the secret, and league's AuthCodeGrant does not
    even call it for one (no redirect_uri check here: the code's own is checked later)."""
    basic_user, basic_password = _basic(headers)
    client_id = form.get("client_id", basic_user)
    if client_id is None:
        raise oauth_errors.invalid_request("client_id")
    secret = form.get("client_secret", basic_password)
    client = find_client(ctx, client_id)
    if client is None:
        raise oauth_errors.invalid_client()
    if client.public:
        if grant_type == "authorization_code":
            return client
    elif secret is None or not client.secret_matches(secret):
        raise oauth_errors.invalid_client()
    if redirect_uri is not None and not redirect_uri_registered(redirect_uri, client):
        raise oauth_errors.invalid_client()
    return client
