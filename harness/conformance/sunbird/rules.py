"""Semantic rules of the Sunbird API Manager: gateway, register v1/v2 and refresh.

Each function is one rule; the first docstring line says it, `Source:` cites what it enforces.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import httpx
import jwt

from harness.conformance import jwts
from harness.conformance.rules import Operation, expect, named, rule
from harness.conformance.sunbird.client import REFRESH, SunbirdClient, new_key

REGISTER_OPS = named("registerCredentialV1", "registerCredentialV2", "getApiToken")
V2_OPS = named("registerCredentialV2", "getApiToken")
GATEWAY_OPS = named("registerCredentialV1", "registerCredentialV2", "getApiToken", "refreshAccessToken")
REGISTER_ENVELOPE_ID = "ekstep.api.am.adminutil.consumer.create"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TWELVE_HOURS = 12 * 3600


def _route_consumer(op: Operation) -> str:
    """The consumer a call to `op` is made for: the literal one in its path, else the mobile SDK's."""
    return "desktop_device" if "desktop_device" in op.path else "mobile_device"


def _version(op: Operation) -> int:
    return 1 if "/v1/" in op.path else 2


def _register(client: SunbirdClient, op: Operation, key: str | None = None, **kwargs: Any) -> httpx.Response:
    return client.register(_version(op), _route_consumer(op), key, path=op.path, **kwargs)


def _good_bearer(client: SunbirdClient, op: Operation) -> str:
    """A bearer the gateway lets call `op`: a device token for refresh, else the route's admin credential."""
    return client.device_bearer if op.operation_id == "refreshAccessToken" else client.caller_bearer(
        _route_consumer(op))


def _call(client: SunbirdClient, op: Operation, bearer: str) -> httpx.Response:
    """A valid call to a gateway-protected operation, made with `bearer`."""
    if op.operation_id == "refreshAccessToken":
        return client.refresh("not-even-a-jwt", bearer=bearer)
    return _register(client, op, bearer=bearer)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise AssertionError(f"{response.status_code} body is not JSON: {response.text[:200]!r}") from None


def _status(response: httpx.Response, expected: int) -> None:
    expect(response.status_code == expected,
           f"expected {expected}, got {response.status_code}: {response.text[:300]}")


def _gateway_refusal(response: httpx.Response, status: int, message: str) -> None:
    _status(response, status)
    body = _json(response)
    expect(body == {"message": message}, f"expected body {{'message': {message!r}}}, got {body!r}")


@rule("sunbird", REGISTER_OPS)
def register_envelope_has_documented_fields(client: SunbirdClient, op: Operation) -> None:
    """A successful register answers the envelope in its documented order, types and values.

    Source: reference/sunbird-api-manager.md "Envelope"; seeds/000 (register examples).
    """
    key, msgid = new_key(), str(uuid.uuid4())
    response = _register(client, op, key, msgid=msgid)
    _status(response, 200)
    body = _json(response)
    stamp = "ets" if "ets" in body else "ts"
    expect(list(body) == ["id", "ver", stamp, "params", "result"],
           f"envelope keys {list(body)}, expected id, ver, ets (or ts), params, result")
    expect(body["id"] == REGISTER_ENVELOPE_ID, f"id is {body['id']!r}, expected {REGISTER_ENVELOPE_ID!r}")
    expect(body["ver"] == "1.0", f"ver is {body['ver']!r}")
    expect(isinstance(body[stamp], int | str) and not isinstance(body[stamp], bool), f"{stamp} is {body[stamp]!r}")
    params = body["params"]
    expect(list(params) == ["status", "err", "errmsg", "msgid", "resmsgid"],
           f"params keys {list(params)}, expected status, err, errmsg, msgid, resmsgid")
    expect(params["status"] == "successful", f"params.status is {params['status']!r}")
    expect(params["err"] is None and params["errmsg"] is None, "params.err and params.errmsg must be null")
    expect(params["msgid"] == msgid, f"params.msgid {params['msgid']!r} does not echo the request's {msgid!r}")
    expect(isinstance(params["resmsgid"], str) and UUID4.match(params["resmsgid"]),
           f"params.resmsgid {params['resmsgid']!r} is not a UUID4")
    result = body["result"]
    expect(list(result) == ["key", "secret", "token"], f"result keys {list(result)}, expected key, secret, token")
    expect(result["key"] == key, f"result.key {result['key']!r} is not the registered key {key!r}")
    expect(all(isinstance(result[name], str) for name in result), "result values must be strings")


@rule("sunbird", named("registerCredentialV1"))
def register_v1_same_key_returns_same_secret(client: SunbirdClient, op: Operation) -> None:
    """Registering one key twice returns the same secret: the credential is stored.

    Source: reference/sunbird-api-manager.md "Register, v1".
    """
    key = new_key()
    first, second = (_json(_register(client, op, key)) for _ in range(2))
    secrets = [body.get("result", {}).get("secret") for body in (first, second)]
    expect(secrets[0], f"first registration gave no secret: {first!r}")
    expect(secrets[0] == secrets[1], "the second registration of the same key returned another secret")


@rule("sunbird", named("registerCredentialV1"))
def register_v1_token_verifies_with_returned_secret(client: SunbirdClient, op: Operation) -> None:
    """The v1 token is HS256 `{"alg": "HS256"}`, verifies with the returned secret and has `iss` = key.

    Source: reference/sunbird-api-manager.md "Register, v1"; seeds/003 (the token generator); RFC 7515 §5.2.
    """
    key = new_key()
    response = _register(client, op, key)
    _status(response, 200)
    result = _json(response)["result"]
    header, _ = jwts.unverified(result["token"])
    expect(header == {"alg": "HS256"}, f"token header is {header!r}, expected {{'alg': 'HS256'}}")
    try:
        claims = jwts.verify_hs256(result["token"], result["secret"])
    except jwt.InvalidTokenError as exc:
        raise AssertionError(f"token does not verify with the returned secret: {exc}") from None
    expect(claims.get("iss") == key, f"iss is {claims.get('iss')!r}, expected the key {key!r}")
    expect(isinstance(claims.get("iat"), int), f"iat is {claims.get('iat')!r}, expected seconds")


@rule("sunbird", V2_OPS)
def register_v2_token_verifies_with_target_jwks(client: SunbirdClient, op: Operation) -> None:
    """The v2 token is RS256 with a `kid`, verifies with the target's JWKS, has `iss` = key and no secret.

    Source: reference/sunbird-api-manager.md "Register, v2"; seeds/000 (v2 example, `kid`); RFC 7517.
    """
    key = new_key()
    response = _register(client, op, key)
    _status(response, 200)
    result = _json(response)["result"]
    expect(result["secret"] == "", f"v2 secret must be empty, got {result['secret']!r}")
    header, _ = jwts.unverified(result["token"])
    expect(header.get("alg") == "RS256" and header.get("kid"), f"token header is {header!r}")
    try:
        claims = jwts.verify_with_jwks(result["token"], client.jwks)
    except jwt.InvalidTokenError as exc:
        raise AssertionError(f"token does not verify with the target's JWKS: {exc}") from None
    expect(claims.get("iss") == key, f"iss is {claims.get('iss')!r}, expected the key {key!r}")


@rule("sunbird", GATEWAY_OPS)
def gateway_refuses_missing_or_malformed_bearer(client: SunbirdClient, op: Operation) -> None:
    """No bearer, or one that does not decode, gets 401 `{"message": "Unauthorized"}`.

    Source: reference/sunbird-api-manager.md "Gateway: bearer JWT check"; RFC 6750 §3.1.
    """
    if op.operation_id == "refreshAccessToken":
        response = client.http.post(client.url(REFRESH), data={"refresh_token": "x"})
    else:
        body = {"request": {"key": new_key()}}
        response = client.http.post(client.url(op.url("", _route_consumer(op))), json=body)
    _gateway_refusal(response, 401, "Unauthorized")
    _gateway_refusal(_call(client, op, "not.a-jwt"), 401, "Unauthorized")


@rule("sunbird", GATEWAY_OPS)
def gateway_refuses_bad_signature(client: SunbirdClient, op: Operation) -> None:
    """A bearer whose signature does not match gets 403 `Invalid signature`.

    Source: reference/sunbird-api-manager.md "Gateway: bearer JWT check"; RFC 7515 §5.2.
    """
    good = _good_bearer(client, op)
    _gateway_refusal(_call(client, op, jwts.tampered(good)), 403, "Invalid signature")


@rule("sunbird", GATEWAY_OPS)
def gateway_refuses_alg_none(client: SunbirdClient, op: Operation) -> None:
    """An unsigned `alg: none` bearer naming a real credential is refused with 403 `Invalid algorithm`.

    Source: reference/sunbird-api-manager.md "Gateway" (`alg` must equal the credential's; never `none`);
    RFC 8725 §3.1.
    """
    good = _good_bearer(client, op)
    header, claims = jwts.unverified(good)
    kid = {"kid": header["kid"]} if "kid" in header else {}
    _gateway_refusal(_call(client, op, jwts.unsigned(claims, kid)), 403, "Invalid algorithm")


@rule("sunbird", GATEWAY_OPS)
def gateway_refuses_unknown_iss(client: SunbirdClient, op: Operation) -> None:
    """A bearer whose `iss` names no credential gets 403 `No credentials found for given 'iss'`.

    Source: reference/sunbird-api-manager.md "Gateway: bearer JWT check".
    """
    bearer = jwts.gateway_bearer(f"unknown-{uuid.uuid4().hex}", "whatever-secret")
    _gateway_refusal(_call(client, op, bearer), 403, "No credentials found for given 'iss'")


@rule("sunbird", GATEWAY_OPS)
def gateway_refuses_wrong_group(client: SunbirdClient, op: Operation) -> None:
    """A valid bearer of a consumer outside the route's ACL group gets 403 `You cannot consume this service`.

    Source: reference/sunbird-api-manager.md "Gateway" (ACL table).
    """
    if op.operation_id == "refreshAccessToken":
        outsider = "mobile_app"  # a gateway admin, not a device: no refreshTokenCreate
    else:
        outsider = "portal" if _route_consumer(op) != "portal_anonymous" else "mobile_app"
    _gateway_refusal(_call(client, op, client.bearer(outsider)), 403, "You cannot consume this service")


@rule("sunbird", named("registerCredentialV1"))
def gateway_accepts_standard_base64_signature(client: SunbirdClient, op: Operation) -> None:
    """An HS256 bearer whose signature is written in standard Base64 (`+ / =`) is accepted like base64url.

    Source: reference/sunbird-api-manager.md "Gateway" (Kong accepts both; real registration scripts).
    """
    bearer = jwts.standard_base64_signature(client.caller_bearer(_route_consumer(op)))
    _status(_register(client, op, bearer=bearer), 200)


BAD_KEYS: tuple[tuple[str, Any, str], ...] = (
    ("no request", {"id": "x"}, "REQUEST IS MANDATORY"),
    ("empty key", {"request": {"key": ""}}, "KEY IS MANDATORY"),
    ("null key", {"request": {"key": None}}, "KEY IS MANDATORY"),
    ("key with a space", {"request": {"key": "two words"}}, "KEY MUST NOT HAVE SPACE"),
    ("UUID key", {"request": {"key": "0f8fad5b-d9cb-469f-a165-70867728950e"}}, "KEY MUST NOT BE A UUID"),
)


@rule("sunbird", REGISTER_OPS)
def register_rejects_each_documented_bad_key(client: SunbirdClient, op: Operation) -> None:
    """Each documented bad body gets 400 `BAD_REQUEST` with its message and an empty result.

    Source: reference/sunbird-api-manager.md "Register, v1" (validation messages); seeds/000 (400 example).
    """
    for what, body, message in BAD_KEYS:
        response = _register(client, op, body=body)
        expect(response.status_code == 400, f"{what}: expected 400, got {response.status_code}")
        data = _json(response)
        params = data.get("params", {})
        expect(params.get("status") == "failed" and params.get("err") == "BAD_REQUEST",
               f"{what}: params {params!r}, expected status failed and err BAD_REQUEST")
        expect(message in str(params.get("errmsg", "")).split(", "),
               f"{what}: errmsg {params.get('errmsg')!r} lacks {message!r}")
        expect(data.get("result") == {"key": "", "secret": "", "token": ""},
               f"{what}: result {data.get('result')!r}, expected empty key, secret, token")


@rule("sunbird", REGISTER_OPS)
def register_requires_json_content_type(client: SunbirdClient, op: Operation) -> None:
    """A register body that is not `application/json` gets 415.

    Source: reference/sunbird-api-manager.md "Register, v1"; seeds/000 (415); RFC 9110 §15.5.16.
    """
    headers = {"Authorization": f"Bearer {client.caller_bearer(_route_consumer(op))}", "Content-Type": "text/plain"}
    response = client.http.post(client.url(op.url("", _route_consumer(op))), headers=headers,
                                content=b'{"request": {"key": "text"}}')
    _status(response, 415)


@rule("sunbird", named("refreshAccessToken"))
def refresh_gives_access_token_verifying_with_published_keys(client: SunbirdClient, op: Operation) -> None:
    """Refresh answers an RS256 `typ: Bearer` access token that verifies with the published keys, from the
    realm's issuer, living at most 12 h, and echoes the refresh token.

    The keys are the realm's certs plus the target's JWKS: in the seed the access token is signed with
    `kid: access0`, a key of the Sunbird services, while the realm's own key (`accesspub0`) signs refresh tokens.
    Source: reference/sunbird-api-manager.md "Refresh"; seeds/000 (refresh example, `kid`s).
    """
    refresh_token = client.realm_refresh_token()
    response = client.refresh(refresh_token)
    _status(response, 200)
    body = _json(response)
    expect(body.get("id") == "api.refresh.token", f"id is {body.get('id')!r}, expected 'api.refresh.token'")
    expect("msgid" not in body.get("params", {}), "refresh params must not carry msgid")
    result = body["result"]
    expect(result.get("refresh_token") == refresh_token, "result.refresh_token does not echo the input")
    header, _ = jwts.unverified(result["access_token"])
    expect(header.get("alg") == "RS256" and header.get("typ") == "JWT" and header.get("kid"),
           f"access token header {header!r}, expected kid, typ JWT, alg RS256")
    try:
        claims = jwts.verify_with_jwks(result["access_token"], client.realm_keys, client.jwks)
    except jwt.InvalidTokenError as exc:
        raise AssertionError(f"access token does not verify with the published keys: {exc}") from None
    expect(claims.get("typ") == "Bearer", f"typ is {claims.get('typ')!r}, expected Bearer")
    expect(claims.get("iss") == client.realm_issuer, f"iss {claims.get('iss')!r} is not {client.realm_issuer!r}")
    expect(claims["exp"] <= time.time() + TWELVE_HOURS + 5, "access token lives longer than 12 hours")
    expect(abs(result.get("expires_in", -1) - (claims["exp"] - time.time())) < 10,
           f"expires_in {result.get('expires_in')!r} does not match exp")


@rule("sunbird", named("refreshAccessToken"))
def refresh_rejects_garbage_token_with_invalid_grant(client: SunbirdClient, op: Operation) -> None:
    """A refresh token that is not a valid realm token gets 400 `invalid_grant`, never a 5xx.

    Source: reference/sunbird-api-manager.md "Refresh" (any failed check → 400 invalid_grant).
    """
    forged = jwts.hs256({"typ": "Refresh", "iss": "https://attacker.invalid/auth/realms/sunbird"}, "x" * 32,
                        headers={"typ": "JWT"})
    for garbage in ("garbage", "a.b.c", forged):
        response = client.refresh(garbage)
        expect(response.status_code == 400, f"refresh_token {garbage[:20]!r}…: expected 400, "
                                            f"got {response.status_code}: {response.text[:200]}")
        data = _json(response)
        params = data.get("params", {})
        expect(params.get("err") == "invalid_grant" and params.get("errmsg") == "invalid_grant",
               f"params {params!r}, expected err and errmsg invalid_grant")
        expect(data.get("result", {}).get("access_token") is None, "a refused refresh must not carry a token")


@rule("sunbird", named("refreshAccessToken"))
def refresh_requires_form_content_type(client: SunbirdClient, op: Operation) -> None:
    """A JSON refresh body gets 415: the endpoint takes `application/x-www-form-urlencoded`.

    Source: reference/sunbird-api-manager.md "Refresh".
    """
    headers = {"Authorization": f"Bearer {client.device_bearer}"}
    response = client.http.post(client.url(REFRESH), json={"refresh_token": "x"}, headers=headers)
    _status(response, 415)


@rule("sunbird", named("refreshAccessToken"))
def refresh_requires_refresh_token(client: SunbirdClient, op: Operation) -> None:
    """A refresh call without `refresh_token` gets 400 `BAD_REQUEST`.

    Source: reference/sunbird-api-manager.md "Refresh".
    """
    headers = {"Authorization": f"Bearer {client.device_bearer}"}
    response = client.http.post(client.url(REFRESH), data={"other": "x"}, headers=headers)
    _status(response, 400)
    params = _json(response).get("params", {})
    expect(params.get("err") == "BAD_REQUEST", f"params {params!r}, expected err BAD_REQUEST")


def _json_is_labelled_json(response: httpx.Response) -> None:
    """A body that is a JSON object or array says `application/json`."""
    try:
        parsed = json.loads(response.content)
    except ValueError:
        return
    media = response.headers.get("content-type", "").split(";")[0].strip()
    expect(not isinstance(parsed, dict | list) or media == "application/json",
           f"{response.status_code} JSON answer has Content-Type {media!r}")


@rule("sunbird", GATEWAY_OPS, each_response=_json_is_labelled_json)
def json_bodies_come_with_json_content_type(client: SunbirdClient, op: Operation) -> None:
    """Every JSON answer (success, validation error, gateway refusal) says `application/json`.

    Source: CONTRIBUTING.md (the spec is the contract); RFC 8259 §11; seeds/000 (response headers).
    """
    if op.operation_id == "refreshAccessToken":
        answers = [client.refresh(client.realm_refresh_token()), client.refresh("garbage")]
    else:
        answers = [_register(client, op), _register(client, op, body={"request": {"key": ""}})]
    answers.append(_call(client, op, "not.a-jwt"))
    for response in answers:
        _json(response)
        _json_is_labelled_json(response)
