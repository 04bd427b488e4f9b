"""JWTs as a client or an attacker makes them, and verification against a target's published keys.

Stands alone (PyJWT only): `harness.crypto` belongs to the reference server and reaches its key store.
"""

from __future__ import annotations

import base64
import json
import time
import warnings
from typing import Any

import jwt
from jwt.warnings import InsecureKeyLengthWarning


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of a compact JWS, not verified; ValueError when it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("a JWT has three dot-separated parts")
    try:
        header, payload = (json.loads(_b64url_decode(part)) for part in parts[:2])
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"undecodable JWT: {exc}") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise ValueError("JWT header and payload must be objects")
    return header, payload


def hs256(claims: dict[str, Any], secret: str, headers: dict[str, Any] | None = None) -> str:
    with warnings.catch_warnings():  # the secret is the deployment's (Kong's demo ones are short), not ours
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(claims, secret, algorithm="HS256", headers=headers)


def gateway_bearer(key: str, secret: str) -> str:
    """The Sunbird gateway credential's bearer, as seeds/003 `generate(key, secret)` makes it."""
    return hs256({"iss": key, "iat": int(time.time())}, secret)


def unsigned(claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
    """`alg: none` with an empty signature (RFC 7519 §6.1), which a verifier must never accept."""
    header = _b64url(json.dumps({**(headers or {}), "alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64url(json.dumps(claims).encode())}."


def tampered(token: str) -> str:
    """The same header and payload under a signature that does not match."""
    head, body, signature = token.split(".")
    raw = bytearray(_b64url_decode(signature) or b"\0")
    raw[0] ^= 0xFF
    return f"{head}.{body}.{_b64url(bytes(raw))}"


def standard_base64_signature(token: str) -> str:
    """The signature re-encoded as standard Base64 with padding, as a real registration script writes it."""
    head, body, signature = token.split(".")
    return f"{head}.{body}.{base64.b64encode(_b64url_decode(signature)).decode()}"


def verify_hs256(token: str, secret: str) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.decode(token, secret, algorithms=["HS256"], options={"verify_aud": False, "verify_iat": False})


def verify_with_jwks(token: str, *jwks: dict[str, Any], leeway: float = 5.0, **options: Any) -> dict[str, Any]:
    """Claims of an RS256 token verified with the key its `kid` names in any of `jwks`; a token without `kid`
    (league's have none) with whichever published RSA key verifies it (RFC 7515 §6 leaves the choice to the
    verifier)."""
    header, _ = unverified(token)
    keys = [key for document in jwks for key in document.get("keys", [])]
    kid = header.get("kid")
    matching = [k for k in keys if k.get("kid") == kid] if kid is not None else [k for k in keys
                                                                                  if k.get("kty") == "RSA"]
    if not matching:
        raise jwt.InvalidTokenError(f"no key with kid {kid!r} among {[k.get('kid') for k in keys]}")
    error: jwt.InvalidTokenError | None = None
    for candidate in matching:
        try:
            return jwt.decode(token, jwt.PyJWK(candidate, algorithm="RS256").key, algorithms=["RS256"],
                              leeway=leeway, options={"verify_aud": False, **options})
        except jwt.InvalidSignatureError as exc:
            error = exc
    assert error is not None
    raise error
