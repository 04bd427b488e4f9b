"""JWT helpers shared by both APIs. Verification always names its algorithms explicitly."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import jwt

from harness.crypto.keys import KeyRing


class MalformedToken(ValueError):
    """The token is not three base64url segments with JSON header and payload."""


def b64url_decode(segment: str) -> bytes:
    """Decode base64url without padding; raises MalformedToken on anything else."""
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MalformedToken(str(exc)) from exc


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def split(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Header, payload and the raw signature segment of a JWS compact token (not verified)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedToken("a JWT has three dot-separated parts")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedToken(str(exc)) from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise MalformedToken("JWT header and payload must be JSON objects")
    return header, payload, parts[2]


def sign_rs256(claims: dict[str, Any], keys: KeyRing, kid: str, headers: dict[str, Any] | None = None) -> str:
    """RS256 token; `headers` fixes the header's keys and their order (PyJWT adds `alg`, and `typ` unless None)."""
    return jwt.encode(claims, keys.private(kid), algorithm="RS256", headers=headers or {"kid": kid})


def sign_hs256(claims: dict[str, Any], secret: str, headers: dict[str, Any] | None = None) -> str:
    return jwt.encode(claims, secret, algorithm="HS256", headers=headers)


