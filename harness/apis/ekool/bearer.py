"""Resource API bearer checks, league's BearerTokenValidator: parse (lcobucci/jwt's messages), verify RS256
with our key and no leeway, refuse revoked tokens. Every refusal is 401 `access_denied` with the hint."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from typing import Any

import jwt
from connexion.exceptions import OAuthProblem
from starlette.requests import Request

from harness.apis.ekool.tokens import ACCESS_KID, access_token_revoked
from harness.apis.ekool.wire import league_jwt
from harness.runtime import SCOPE_KEY, Context

MISSING_HEADER = 'Missing "Authorization" header'
NOT_VERIFIED = "Access token could not be verified"
REVOKED = "Access token has been revoked"
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
BAD_BASE64 = "Error while decoding from Base64Url, invalid base64 characters detected"
_DATE_CLAIMS = ("iat", "nbf", "exp")


class BearerRejected(OAuthProblem):
    """A 401 whose `hint` is league's reason; turned into the access_denied body by the error handler."""

    def __init__(self, hint: str) -> None:
        super().__init__(detail=hint)
        self.hint = hint


def _base64url(segment: str) -> bytes:
    """lcobucci/jwt 5 decodes with libsodium's URL-safe, unpadded variant, which is strict: no `=`, no length
    of 4n+1, no stray bits in the last character (reference/ekool-oauth2.md, "Measured": `a.b.c`)."""
    if not _BASE64URL.fullmatch(segment) or len(segment) % 4 == 1:
        raise BearerRejected(BAD_BASE64)
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != segment:
        raise BearerRejected(BAD_BASE64)
    return raw


def _decode_part(segment: str, name: str) -> dict[str, Any]:
    raw = _base64url(segment)
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BearerRejected("Error while decoding from JSON") from exc
    if not isinstance(value, dict):
        raise BearerRejected(f"{name} must be an array")
    return value


def parse(token: str) -> dict[str, Any]:
    """The claims, after the structural checks lcobucci/jwt's parser makes (its exception texts as hints)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise BearerRejected("The JWT string must have two dots")
    header = _decode_part(parts[0], "headers")
    if "enc" in header:
        raise BearerRejected("Encryption is not supported yet")
    claims = _decode_part(parts[1], "claims")
    for name in _DATE_CLAIMS:
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise BearerRejected(f"Value is not in the allowed date format: {value}")
    _base64url(parts[2])
    return claims


def _verified_claims(ctx: Context, token: str) -> dict[str, Any]:
    """The signature checked (times are checked against the server's clock by the caller, as pyjwt would)
    against each generation of the access key, the current one first: league's tokens name no key, and after a
    rotation (`/__harness/keys/rotate`) the older keys verify until they are retired."""
    for kid in ctx.keys.generations(ACCESS_KID):
        try:
            return jwt.decode(token, ctx.keys.public(kid), algorithms=["RS256"],
                              options={"require": list(_DATE_CLAIMS), "verify_aud": False, "verify_exp": False,
                                       "verify_nbf": False, "verify_iat": False})
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            raise BearerRejected(NOT_VERIFIED) from exc
    raise BearerRejected(NOT_VERIFIED)


def check(ctx: Context, token: str) -> dict[str, Any]:
    """Token info for connexion: raises BearerRejected with league's hint (a signature and one store read)."""
    now = ctx.clock.now()
    key = ("RS256", ACCESS_KID, token)
    claims = ctx.keys.verified.get(key, now)
    if claims is None:  # a token verified before parsed then: only a new one is parsed (for league's hints)
        parse(token)
        claims = ctx.keys.verified.remember(key, lambda: _verified_claims(ctx, token), lambda claims: claims["exp"],
                                            now)
    if claims["exp"] <= now or claims["nbf"] > now or claims["iat"] > now:  # no leeway (league's validator)
        raise BearerRejected(NOT_VERIFIED)
    if not isinstance(claims.get("jti"), str) or access_token_revoked(ctx, claims["jti"]):
        raise BearerRejected(REVOKED)
    return {"sub": claims.get("sub"), "scopes": claims.get("scopes") or [], "client_id": claims.get("aud")}


async def token_info(token: str, request: Request) -> dict[str, Any]:
    """x-tokenInfoFunc: `check` runs on the event loop; an RS256 verification and one indexed read of the local
    WAL store take less time than a hop to the thread pool would."""
    return check(request.scope[SCOPE_KEY], token)


def has_scopes(required_scopes: Iterable[str], token_scopes: Any) -> bool:
    """x-scopeValidateFunc: every required scope must be among the token's `scopes` claim."""
    granted = set(token_scopes) if isinstance(token_scopes, list) else set()
    return set(required_scopes) <= granted


def hint_for(ctx: Context, authorization: str | None) -> str:
    """league's hint for an Authorization header connexion refused before asking us (missing, or empty)."""
    if authorization is None:
        return MISSING_HEADER
    try:
        check(ctx, league_jwt(authorization))
    except BearerRejected as exc:
        return exc.hint
    return NOT_VERIFIED
