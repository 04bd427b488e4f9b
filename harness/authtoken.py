"""The Sunbird auth-token generator library (seeds/003): gateway Bearer tokens from a JWT credential.

`generate(key, secret)` is HS256 `{"iss": key, "iat": now}` signed with the secret's raw bytes;
`refresh(old, secret)` checks the old token against that secret and makes a fresh one with the same `iss`.
The HS256 check accepts the signature in base64url and in standard Base64, as Sunbird's Kong does
(reference/sunbird-api-manager.md), and is shared with the gateway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
import warnings
from typing import Any

import jwt
from jwt.warnings import InsecureKeyLengthWarning

from harness.crypto.tokens import MalformedToken, split

_BASE64_SIGNATURE = re.compile(r"^[A-Za-z0-9+/_-]+={0,2}$")


def signature_bytes(segment: str) -> bytes:
    """The raw signature of a JWS segment written in base64url or in standard Base64 (`+ / =`)."""
    if not _BASE64_SIGNATURE.match(segment):
        raise MalformedToken("the signature is not base64url or Base64")
    normalised = segment.rstrip("=").replace("+", "-").replace("/", "_")
    try:
        return base64.urlsafe_b64decode(normalised + "=" * (-len(normalised) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MalformedToken(str(exc)) from exc


def signing_input(token: str) -> bytes:
    return token.rsplit(".", 1)[0].encode("ascii", errors="replace")


def hs256_signature_valid(token: str, secret: str) -> bool:
    """HMAC-SHA256 of `header.payload` with the secret's bytes equals the token's signature (either alphabet)."""
    try:
        signature = signature_bytes(token.rsplit(".", 1)[-1])
    except MalformedToken:
        return False
    expected = hmac.new(secret.encode(), signing_input(token), hashlib.sha256).digest()
    return hmac.compare_digest(expected, signature)


def generate(key: str, secret: str, iat: int | None = None) -> str:
    """A gateway Bearer for the credential `key`/`secret`: HS256 `{"iss": key, "iat": now}`."""
    if not key:
        raise ValueError("the credential key must not be empty")
    if not secret:
        raise ValueError("the credential secret must not be empty")
    claims = {"iss": key, "iat": int(time.time()) if iat is None else iat}
    with warnings.catch_warnings():  # the gateway chose the secret; its length is not the caller's to fix
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(claims, secret, algorithm="HS256")


def refresh(old_token: str, secret: str) -> str:
    """A fresh token with the old token's `iss`; ValueError if the old one is not HS256 signed with `secret`."""
    header, payload, _ = split(old_token)
    if header.get("alg") != "HS256":
        raise ValueError(f"expected an HS256 token, got alg {header.get('alg')!r}")
    if not hs256_signature_valid(old_token, secret):
        raise ValueError("the token's signature does not match this secret")
    issuer = payload.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise ValueError("the token has no `iss` claim")
    return generate(issuer, secret)


def decode(token: str) -> dict[str, Any]:
    """Header and payload of any JWT, signature not checked; ValueError if it is not a JWT."""
    header, payload, _ = split(token)
    return {"header": header, "payload": payload}
