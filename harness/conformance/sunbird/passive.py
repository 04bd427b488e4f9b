"""Sunbird's passive rules: what `harness proxy` judges on the traffic of a real app (see
`harness.conformance.passive`). Named like the active rules that check the same thing."""

from __future__ import annotations

import hashlib
import re
import warnings
from typing import Any

import jwt

from harness.conformance import jwts
from harness.conformance.passive import Seen, passive
from harness.conformance.rules import expect

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
REGISTER = ("registerCredentialV1", "registerCredentialV2", "getApiToken")


def _result(seen: Seen) -> dict[str, Any] | None:
    body = seen.json() if seen.response.status_code == 200 else None
    result = body.get("result") if isinstance(body, dict) else None
    return result if isinstance(result, dict) else None


def _verifies(token: str, seen: Seen) -> str | None:
    """None when `token` verifies with the target's published keys, else why not (keys fetched again once)."""
    problem = "no keys"
    for refresh in (False, True):
        try:
            jwts.verify_with_jwks(token, *seen.keys(refresh), leeway=60, verify_exp=False)
            return None
        except jwt.InvalidTokenError as exc:
            problem = str(exc)
    return problem


@passive("sunbird", *REGISTER)
def register_envelope_has_documented_fields(seen: Seen, memory: dict[str, Any]) -> None:
    """A register answer is the documented envelope: `id`, `ver`, `ets`/`ts`, `params` with a UUID4 `resmsgid`
    and the request's `msgid` echoed.

    Source: reference/sunbird-api-manager.md "Envelope"; seeds/000 (register examples).
    """
    body = seen.json() if seen.response.status_code == 200 else None
    if not isinstance(body, dict):
        return
    for name in ("id", "ver", "params", "result"):
        expect(name in body, f"the envelope has no {name!r}")
    expect("ets" in body or "ts" in body, "the envelope has neither ets nor ts")
    params = body["params"] if isinstance(body["params"], dict) else {}
    expect(isinstance(params.get("resmsgid"), str) and UUID4.match(params["resmsgid"]),
           f"params.resmsgid {params.get('resmsgid')!r} is not a UUID4")
    sent = seen.request_json()
    msgid = sent.get("params", {}).get("msgid") if isinstance(sent, dict) and isinstance(sent.get("params"), dict) \
        else None
    if msgid is not None:
        expect(params.get("msgid") == msgid, f"params.msgid {params.get('msgid')!r} does not echo {msgid!r}")


@passive("sunbird", "registerCredentialV1")
def register_v1_same_key_returns_same_secret(seen: Seen, memory: dict[str, Any]) -> None:
    """Registering a key again (v1) answers the same secret: Kong stores one credential per key.

    Source: reference/sunbird-api-manager.md "Register, v1" (idempotent per key).
    """
    result = _result(seen)
    if result is None or not isinstance(result.get("key"), str) or not isinstance(result.get("secret"), str):
        return
    key = (seen.request.url.path, result["key"])
    secret = hashlib.sha256(result["secret"].encode()).hexdigest()
    expect(memory.setdefault(key, secret) == secret, f"key {result['key']!r} was given another secret")


@passive("sunbird", "registerCredentialV1")
def register_v1_token_verifies_with_returned_secret(seen: Seen, memory: dict[str, Any]) -> None:
    """The v1 token verifies (HS256) with the secret the same answer returns.

    Source: reference/sunbird-api-manager.md "Register, v1"; seeds/003 (the token generator).
    """
    result = _result(seen)
    if result is None or not isinstance(result.get("token"), str) or not isinstance(result.get("secret"), str):
        return
    try:
        jwts.verify_hs256(result["token"], result["secret"])
    except jwt.InvalidTokenError as exc:
        raise AssertionError(f"the v1 token does not verify with the returned secret: {exc}") from None


@passive("sunbird", "registerCredentialV2")
def register_v2_token_verifies_with_target_jwks(seen: Seen, memory: dict[str, Any]) -> None:
    """The v2 token verifies with the target's JWKS, by its `kid`.

    Source: reference/sunbird-api-manager.md "Register, v2"; seeds/000 (v2 example); RFC 7517.
    """
    result = _result(seen)
    if result is None or not isinstance(result.get("token"), str):
        return
    problem = _verifies(result["token"], seen)
    expect(problem is None, f"the v2 token does not verify with the published keys: {problem}")


@passive("sunbird", "refreshAccessToken")
def refresh_gives_access_token_verifying_with_published_keys(seen: Seen, memory: dict[str, Any]) -> None:
    """A refreshed access token verifies with the published keys and `expires_in` is what it lives.

    Source: reference/sunbird-api-manager.md "Refresh"; seeds/000 (refresh example, `kid`s).
    """
    result = _result(seen)
    if result is None or not isinstance(result.get("access_token"), str):
        return
    problem = _verifies(result["access_token"], seen)
    expect(problem is None, f"the access token does not verify with the published keys: {problem}")
    claims = jwts.unverified(result["access_token"])[1]
    lifetime = claims.get("exp", 0) - claims.get("iat", 0)
    expect(abs(result.get("expires_in", -1) - lifetime) <= 5,
           f"expires_in {result.get('expires_in')!r}, but the token lives {lifetime} s")


@passive("sunbird", *REGISTER, "refreshAccessToken")
def gateway_refuses_missing_or_malformed_bearer(seen: Seen, memory: dict[str, Any]) -> None:
    """A call without a bearer gets the gateway's 401 `{"message": "Unauthorized"}`.

    Source: reference/sunbird-api-manager.md "Gateway: bearer JWT check"; RFC 6750 §3.1.
    """
    if "authorization" in seen.request.headers:
        return
    expect(seen.response.status_code == 401 and seen.json() == {"message": "Unauthorized"},
           f"a call without a bearer got {seen.response.status_code} {seen.response.text[:100]!r}")


def _past_the_gateway(seen: Seen) -> bool:
    """The service answered (the gateway's refusals are 401, 403, 413 and 429 with a `message` body)."""
    body = seen.json()
    return not (seen.response.status_code in (401, 403, 413, 429) and isinstance(body, dict) and "message" in body)


def _params(seen: Seen) -> dict[str, Any]:
    body = seen.json()
    params = body.get("params") if isinstance(body, dict) else None
    return params if isinstance(params, dict) else {}


@passive("sunbird", *REGISTER)
def register_rejects_each_documented_bad_key(seen: Seen, memory: dict[str, Any]) -> None:
    """A key with whitespace is refused with 400 `BAD_REQUEST`.

    Source: reference/sunbird-api-manager.md "Register, v1" (validation messages); seeds/000 (400 example).
    """
    sent = seen.request_json()
    request = sent.get("request") if isinstance(sent, dict) else None
    key = request.get("key") if isinstance(request, dict) else None
    if not isinstance(key, str) or not any(c.isspace() for c in key) or not _past_the_gateway(seen):
        return
    expect(seen.response.status_code == 400 and _params(seen).get("err") == "BAD_REQUEST",
           f"a key with whitespace got {seen.response.status_code} {_params(seen).get('err')!r}")


def _refresh_form(seen: Seen) -> dict[str, str] | None:
    media = seen.request.headers.get("content-type", "").split(";")[0].strip().lower()
    return seen.form if media == "application/x-www-form-urlencoded" and _past_the_gateway(seen) else None


@passive("sunbird", "refreshAccessToken")
def refresh_rejects_garbage_token_with_invalid_grant(seen: Seen, memory: dict[str, Any]) -> None:
    """A refresh token that is no JWT gets 400 `invalid_grant`, never a 5xx.

    Source: reference/sunbird-api-manager.md "Refresh".
    """
    form = _refresh_form(seen)
    token = form.get("refresh_token") if form else None
    if not token or token.count(".") == 2:
        return
    expect(seen.response.status_code == 400 and _params(seen).get("err") == "invalid_grant",
           f"a refresh token that is no JWT got {seen.response.status_code} {_params(seen).get('err')!r}")


@passive("sunbird", "refreshAccessToken")
def refresh_requires_refresh_token(seen: Seen, memory: dict[str, Any]) -> None:
    """A refresh form without `refresh_token` gets 400 `BAD_REQUEST`.

    Source: reference/sunbird-api-manager.md "Refresh".
    """
    form = _refresh_form(seen)
    if form is None or form.get("refresh_token"):
        return
    expect(seen.response.status_code == 400 and _params(seen).get("err") == "BAD_REQUEST",
           f"a refresh without refresh_token got {seen.response.status_code} {_params(seen).get('err')!r}")


def _known_secret(seen: Seen) -> tuple[str, str] | None:
    """(bearer, the secret of the configured credential its `iss` names), for an HS256 bearer."""
    if seen.bearer is None or seen.section is None:
        return None
    try:
        header, claims = jwts.unverified(seen.bearer)
    except ValueError:
        return None
    secrets = {c.key: c.secret for c in seen.section.credentials.values()}
    if header.get("alg") != "HS256" or claims.get("iss") not in secrets:
        return None
    return seen.bearer, secrets[claims["iss"]]


def _verifies_hs256(token: str, secret: str) -> bool:
    """The signature alone (Kong's jwt plugin checks no claim but what its config names)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the demo secrets are shorter than RFC 7518 recommends
        try:
            jwt.PyJWS().decode(token, secret, algorithms=["HS256"])
        except jwt.InvalidTokenError:
            return False
    return True


def _standard_to_url_safe(token: str) -> str:
    head, body, signature = token.split(".")
    return f"{head}.{body}.{signature.rstrip('=').replace('+', '-').replace('/', '_')}"


@passive("sunbird", *REGISTER, "refreshAccessToken")
def gateway_refuses_bad_signature(seen: Seen, memory: dict[str, Any]) -> None:
    """A bearer naming a known credential (the conformance config's) whose signature does not verify gets 403
    `{"message": "Invalid signature"}`.

    Source: reference/sunbird-api-manager.md "Gateway: bearer JWT check" (Kong's jwt plugin).
    """
    known = _known_secret(seen)
    if known is None or _verifies_hs256(_standard_to_url_safe(known[0]), known[1]):
        return
    expect(seen.response.status_code == 403 and seen.json() == {"message": "Invalid signature"},
           f"a bearer with a bad signature got {seen.response.status_code} {seen.response.text[:100]!r}")


@passive("sunbird", *REGISTER, "refreshAccessToken")
def gateway_accepts_standard_base64_signature(seen: Seen, memory: dict[str, Any]) -> None:
    """A known credential's bearer whose signature is written in standard Base64 (`+ / =`) passes the gateway, as
    Kong decodes either alphabet.

    Source: reference/sunbird-api-manager.md "Gateway: bearer JWT check" (Kong's base64 decoding).
    """
    known = _known_secret(seen)
    if known is None or not any(c in known[0].split(".")[2] for c in "+/="):
        return
    if not _verifies_hs256(_standard_to_url_safe(known[0]), known[1]):
        return
    body = seen.json()
    refused = seen.response.status_code in (401, 403) and isinstance(body, dict) and "message" in body
    expect(not refused, f"a standard-Base64 signature was refused: {seen.response.status_code} {body!r}")
