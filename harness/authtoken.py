"""The Sunbird auth-token generator library (seeds/003): gateway Bearer tokens from a JWT credential.

`generate(key, secret)` makes exactly the real library's token (`AuthTokenGenerate.generate`, jsrsasign): header
`{"typ":"JWT","alg":"HS256"}`, payload `{"iss":key,"iat":null,"exp":null,"aud":"","sub":""}`, compact JSON, HMAC
with the secret's UTF-8 bytes, base64url without padding (reference/sunbird-api-manager.md, "Measured").
`refresh(old, secret)` is our extension: the real `refresh` only logs "Api method is not available". It checks
the old token against that secret and makes a fresh one with the same `iss` and `iat` = now.
The HS256 check accepts the signature in base64url and in standard Base64, as Sunbird's Kong does
(reference/sunbird-api-manager.md), and is shared with the gateway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from typing import Any

from harness.crypto.tokens import MalformedToken, b64url_encode, split

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


_HEADER = b'{"typ":"JWT","alg":"HS256"}'  # jsrsasign keeps the caller's member order


def generate(key: str, secret: str, iat: int | None = None) -> str:
    """A gateway Bearer for the credential `key`/`secret`, byte for byte the real generator's token.

    `iat` (an extension) fills the member the real library leaves null, for callers that want it stamped."""
    if not key:
        raise ValueError("the credential key must not be empty")
    if not secret:
        raise ValueError("the credential secret must not be empty")
    # JSON.stringify: compact, non-ASCII as is
    payload = json.dumps({"iss": key, "iat": iat, "exp": None, "aud": "", "sub": ""}, separators=(",", ":"),
                         ensure_ascii=False).encode()
    unsigned = f"{b64url_encode(_HEADER)}.{b64url_encode(payload)}"
    signature = hmac.new(secret.encode(), unsigned.encode(), hashlib.sha256).digest()
    return f"{unsigned}.{b64url_encode(signature)}"


def refresh(old_token: str, secret: str) -> str:
    """A fresh token with the old token's `iss` and `iat` = now; ValueError if the old one is not HS256 signed
    with `secret`. Not in the real library (its `refresh` is a stub)."""
    header, payload, _ = split(old_token)
    if header.get("alg") != "HS256":
        raise ValueError(f"expected an HS256 token, got alg {header.get('alg')!r}")
    if not hs256_signature_valid(old_token, secret):
        raise ValueError("the token's signature does not match this secret")
    issuer = payload.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise ValueError("the token has no `iss` claim")
    return generate(issuer, secret, int(time.time()))


def decode(token: str) -> dict[str, Any]:
    """Header and payload of any JWT, signature not checked; ValueError if it is not a JWT."""
    header, payload, _ = split(token)
    return {"header": header, "payload": payload}
