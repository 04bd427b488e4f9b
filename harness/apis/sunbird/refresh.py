"""`POST /auth/v1/refresh/token`: the service checks a realm refresh token locally and mints an access token.

reference/sunbird-api-manager.md, "Refresh": the checks run in the note's order; any failure is 400
`invalid_grant`. The realm's session store is not consulted (the real service never calls Keycloak).
"""

from __future__ import annotations

from typing import Any

import jwt

from harness.apis.sunbird.demo import realm
from harness.apis.sunbird.envelope import BAD_REQUEST, INVALID_GRANT, Body, refresh_body, refresh_error
from harness.apis.sunbird.realm import issuer
from harness.apis.sunbird.scenarios import refresh_fails
from harness.crypto.tokens import MalformedToken, sign_rs256, split
from harness.plugins import on_event_loop
from harness.runtime import Context, current

OFFLINE_VALIDITY = 30 * 24 * 3600
ACCESS_TTL = 12 * 3600
REALM_HS256_SECRET = "sunbird-realm-hs256"
DEFAULT_ROLES = [{"role": "PUBLIC", "scope": []}]


class InvalidGrant(Exception):
    """The refresh token failed one of the service's checks (the message says which, for logs and tests)."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _signature_valid(token: str, key: Any, algorithm: str) -> bool:
    try:
        jwt.PyJWS().decode_complete(token, key, algorithms=[algorithm])
    except jwt.InvalidTokenError as exc:
        raise InvalidGrant("bad signature") from exc
    return True


def check_refresh_token(ctx: Context, token: str, realm_url: str, now: float) -> tuple[dict[str, Any], float]:
    """The token's claims and the moment it stops being valid; InvalidGrant otherwise."""
    try:
        header, claims, _ = split(token)
    except MalformedToken as exc:
        raise InvalidGrant("not three base64url JSON parts") from exc
    if header.get("typ") != "JWT":
        raise InvalidGrant("header typ is not JWT")
    if header.get("alg") == "RS256":
        if header.get("kid") not in ctx.keys.generations(realm().signing_key):
            raise InvalidGrant("kid is not the realm key")
        key: Any = ctx.keys.public(header["kid"])
    elif header.get("alg") == "HS256":
        key = ctx.store.secret(REALM_HS256_SECRET)
    else:
        raise InvalidGrant("alg is neither RS256 nor HS256")
    if claims.get("iss") != realm_url:
        raise InvalidGrant("iss is not the realm")
    if claims.get("typ") not in ("Offline", "Refresh"):
        raise InvalidGrant("typ is neither Offline nor Refresh")
    ctx.keys.verified.remember((header["alg"], "realm", token), lambda: _signature_valid(token, key, header["alg"]),
                               lambda _: claims["exp"] if _is_number(claims.get("exp")) else None, now)
    issued = claims.get("iat")
    if not _is_number(issued):
        raise InvalidGrant("no iat")
    end = claims.get("exp") if claims["typ"] == "Refresh" else issued + OFFLINE_VALIDITY
    if not _is_number(end) or end <= now:
        raise InvalidGrant("expired")
    if issued > now:
        raise InvalidGrant("iat in the future")
    return claims, end


JSON = {"Content-Type": "application/json"}  # the spec also lists text/html (seeds/000), so name the type


@on_event_loop
def refresh_token(body: dict[str, Any]) -> tuple[Body, int, dict[str, str]]:
    presented = body.get("refresh_token")
    if not isinstance(presented, str) or not presented:
        return (*refresh_error(BAD_REQUEST, ""), JSON)
    ctx = current()
    now = ctx.clock.now()
    try:
        if refresh_fails(ctx):
            raise InvalidGrant("a failure armed through /__harness/refresh-failures")
        claims, end = check_refresh_token(ctx, presented, issuer(), now)
    except InvalidGrant:
        return (*refresh_error(INVALID_GRANT, INVALID_GRANT), JSON)
    issued_at = int(now)
    expires = int(min(issued_at + ACCESS_TTL, end))
    access = {key: claims[key] for key in ("aud", "sub") if key in claims}
    access.update({"iss": claims["iss"], "typ": "Bearer", "roles": DEFAULT_ROLES, "exp": expires, "iat": issued_at})
    kid = realm().access_token_key
    result = {
        "access_token": sign_rs256(access, ctx.keys, kid, headers={"kid": kid, "typ": "JWT"}),
        "expires_in": expires - issued_at,
        "refresh_expires_in": 0 if claims["typ"] == "Offline" else int(end - issued_at),
        "refresh_token": presented,
    }
    return refresh_body(result), 200, JSON
