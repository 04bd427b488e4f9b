"""The realm stand-in (Keycloak paths): password and refresh-token grants, certs, discovery.

Tokens are shaped like the seed's refresh token (seeds/000, seeds/README.md): RS256 with the realm key,
`sub` `f:<federation id>:<user id>`, `typ` `Offline` (with `scope=offline_access`) or `Refresh`.
Sessions live in the store, so a reset or an unknown session ends the refresh-token grant.
The issuer is configured, as the refresh API's realm URL is (reference note): `<server base URL>/auth/realms/sunbird`
from the settings, whatever host a client used (the `responses` bridge answers for the documented hosts too).
The discovery document's endpoints point at the host the client called.
"""

from __future__ import annotations

import hmac
import json
import uuid
from typing import Any

import jwt
from connexion.context import scope as request_scope
from starlette.datastructures import URL

from harness.apis.sunbird import PLUGIN
from harness.apis.sunbird.demo import realm
from harness.crypto.tokens import sign_rs256
from harness.runtime import Context, current

OFFLINE_SCOPE = "offline_access"

Answer = tuple[dict[str, Any], int]


def issuer() -> str:
    return f"{current().settings.public_base_url}/auth/realms/{realm().name}"


def _called_realm_url() -> str:
    url = URL(scope=request_scope)
    return f"{url.scheme}://{url.netloc}/auth/realms/{realm().name}"


def _error(status: int, error: str, description: str) -> Answer:
    return {"error": error, "error_description": description}, status


def token(body: dict[str, Any]) -> Answer:
    """POST .../protocol/openid-connect/token (form): `password` and `refresh_token` grants."""
    ctx = current()
    client_id = body.get("client_id", "")
    if ctx.store.one("SELECT 1 FROM sunbird_realm_clients WHERE client_id = ?", (client_id,)) is None:
        return _error(401, "invalid_client", "Invalid client credentials")
    if body["grant_type"] == "password":
        return _password_grant(ctx, body, client_id)
    return _refresh_grant(ctx, body, client_id)


def _password_grant(ctx: Context, body: dict[str, Any], client_id: str) -> Answer:
    user = ctx.store.one("SELECT * FROM sunbird_realm_users WHERE username = ?", (body.get("username", ""),))
    password = str(body.get("password", ""))
    if user is None or not hmac.compare_digest(user["password"].encode(), password.encode()):
        return _error(401, "invalid_grant", "Invalid user credentials")
    offline = OFFLINE_SCOPE in str(body.get("scope", "")).split()
    if offline and OFFLINE_SCOPE not in json.loads(user["realm_roles"]):
        return _error(400, "invalid_scope", "Offline tokens not allowed for the user or client")
    session = str(uuid.uuid4())
    ctx.store.execute(
        "INSERT INTO sunbird_realm_sessions (session_state, username, client_id, offline, started_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (session, user["username"], client_id, int(offline), int(ctx.clock.now())),
    )
    return _tokens(ctx, user, client_id, session, offline), 200


def _refresh_grant(ctx: Context, body: dict[str, Any], client_id: str) -> Answer:
    presented = body.get("refresh_token")
    if not presented:
        return _error(400, "invalid_request", "Missing parameter: refresh_token")
    try:
        kid = jwt.get_unverified_header(presented).get("kid")
        if kid not in ctx.keys.generations(realm().signing_key):
            raise jwt.InvalidTokenError("not a realm key")
        claims = jwt.decode(presented, ctx.keys.public(kid), algorithms=["RS256"], issuer=issuer(),
                            options={"verify_aud": False, "verify_exp": False})
    except jwt.InvalidTokenError:
        return _error(400, "invalid_grant", "Invalid refresh token")
    session = ctx.store.one(
        "SELECT s.*, u.user_id, u.realm_roles, u.account_roles FROM sunbird_realm_sessions s "
        "JOIN sunbird_realm_users u ON u.username = s.username WHERE s.session_state = ?",
        (claims.get("session_state"),),
    )
    offline = claims.get("typ") == "Offline"
    expired = not offline and not (isinstance(claims.get("exp"), int) and claims["exp"] > ctx.clock.now())
    if (session is None or expired or claims.get("azp") != client_id or session["client_id"] != client_id
            or bool(session["offline"]) != offline or claims.get("typ") not in ("Offline", "Refresh")):
        return _error(400, "invalid_grant", "Invalid refresh token")
    return _tokens(ctx, session, client_id, session["session_state"], offline), 200


def _tokens(ctx: Context, user: Any, client_id: str, session: str, offline: bool) -> dict[str, Any]:
    now = int(ctx.clock.now())
    access_ttl = round(PLUGIN.lifetime(ctx.settings, "sunbird_realm_access"))
    refresh_ttl = round(PLUGIN.lifetime(ctx.settings, "sunbird_realm_refresh"))
    demo = realm()
    common = {
        "iss": issuer(),
        "aud": client_id,
        "sub": f"f:{demo.federation_id}:{user['user_id']}",
    }
    roles = {
        "realm_access": {"roles": json.loads(user["realm_roles"])},
        "resource_access": {"account": {"roles": json.loads(user["account_roles"])}},
    }
    access = {"jti": str(uuid.uuid4()), "exp": now + access_ttl, "nbf": 0, "iat": now, **common, "typ": "Bearer",
              "azp": client_id, "auth_time": now, "session_state": session, **roles,
              "scope": "offline_access" if offline else "profile", "preferred_username": user["username"]}
    refresh = {"jti": str(uuid.uuid4()), "exp": 0 if offline else now + refresh_ttl, "nbf": 0, "iat": now, **common,
               "typ": "Offline" if offline else "Refresh", "azp": client_id, "auth_time": 0,
               "session_state": session, **roles}
    kid = ctx.keys.current(demo.signing_key)
    headers = {"kid": kid, "typ": "JWT"}
    return {
        "access_token": sign_rs256(access, ctx.keys, kid, headers=headers),
        "expires_in": access_ttl,
        "refresh_expires_in": 0 if offline else refresh_ttl,
        "refresh_token": sign_rs256(refresh, ctx.keys, kid, headers=headers),
        "token_type": "Bearer",
        "not-before-policy": 0,
        "session_state": session,
        "scope": access["scope"],
    }


def certs() -> dict[str, Any]:
    """The realm's public signing keys (after a rotation, the current one first)."""
    keys = current().keys
    return keys.jwks(keys.generations(realm().signing_key))


def openid_configuration() -> dict[str, Any]:
    base = _called_realm_url()
    return {
        "issuer": issuer(),
        "token_endpoint": f"{base}/protocol/openid-connect/token",
        "jwks_uri": f"{base}/protocol/openid-connect/certs",
        "grant_types_supported": ["password", "refresh_token"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "scopes_supported": ["profile", OFFLINE_SCOPE],
    }
