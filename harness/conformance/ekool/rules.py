"""Semantic rules of eKool's OAuth 2.0 server (Laravel Passport / league/oauth2-server 8) and resource API.

Each function is one rule; the first docstring line says it, `Source:` cites what it enforces.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

import httpx
import jwt

from harness.conformance import jwts
from harness.conformance.ekool.client import RESOURCE_OPERATIONS, RESOURCE_SCOPES, TOKEN, EkoolClient, Pkce
from harness.conformance.rules import Operation, either, expect, named, rule

RESOURCE_OPS = named(*RESOURCE_OPERATIONS)
JTI = re.compile(r"^[0-9a-f]{80}$")


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{response.status_code} body is not JSON: {response.text[:200]!r}") from None
    expect(isinstance(body, dict), f"body is not an object: {body!r}")
    return body


def _status(response: httpx.Response, expected: int, error: str | None = None) -> dict | None:
    expect(response.status_code == expected,
           f"expected {expected}{' ' + error if error else ''}, got {response.status_code}: {response.text[:300]}")
    if error is None:
        return None
    body = _json(response)
    expect(body.get("error") == error, f"error is {body.get('error')!r}, expected {error!r}")
    return body


def _one_of(response: httpx.Response, *answers: tuple[int, str]) -> None:
    """The response is one of these (status, error) refusals: what faithful implementations vary in."""
    error = response.json().get("error") if "json" in response.headers.get("content-type", "") else None
    expect((response.status_code, error) in answers,
           f"expected one of {answers}, got {response.status_code} {error!r}: {response.text[:200]}")


# A reused code or a rotated refresh token: league 8 (`invalid_request`) and league 9 / RFC 6749 §5.2
# (`invalid_grant`) both refuse it (reference/ekool-oauth2.md, "Differences between league versions").
SPENT_CODE = ((400, "invalid_request"), (400, "invalid_grant"))
SPENT_REFRESH = ((401, "invalid_request"), (400, "invalid_grant"))
LEAGUE_8 = ("default",)


def _refused(response: httpx.Response, what: str) -> None:
    expect(400 <= response.status_code < 500,
           f"{what} should get a 4xx refusal, got {response.status_code}: {response.text[:200]}")


def _is_redirect_to(response: httpx.Response, uri: str) -> bool:
    location = response.headers.get("location", "")
    target = urlsplit(uri)
    there = urlsplit(location)
    return response.is_redirect and (there.netloc, there.path) == (target.netloc, target.path)


@rule("ekool", named("authorize"))
def authorize_never_redirects_to_unregistered_uri(client: EkoolClient, op: Operation) -> None:
    """A `redirect_uri` the client did not register gets 401 `invalid_client` JSON, never a redirect there.

    Source: reference/ekool-oauth2.md "GET /oauth/authorize"; RFC 6749 §4.1.2.1 and §10.15 (open redirector).
    """
    registered = urlsplit(client.ekool.redirect_uri)
    for uri in (client.ekool.unregistered_redirect_uri, f"{registered.scheme}://{registered.netloc}/elsewhere"):
        for scopes in (None, ("no-such-scope",)):  # also when the request is otherwise erroneous
            response = client.login.get(client.authorize_query(redirect_uri=uri, scopes=scopes, state="s"))
            expect(not _is_redirect_to(response, uri), f"redirected to the unregistered {uri}")
            _status(response, 401, "invalid_client")


@rule("ekool", named("authorize"))
def authorize_echoes_state(client: EkoolClient, op: Operation) -> None:
    """The redirect carrying the code carries the request's `state` unchanged.

    Source: reference/ekool-oauth2.md "GET /oauth/authorize"; RFC 6749 §4.1.2.
    """
    state = secrets.token_urlsafe(12) + "/+ ="
    redirect = client.authorize(state=state)
    expect(redirect.params.get("code"), f"no code in {redirect.location}")
    expect(redirect.params.get("state") == state, f"state {redirect.params.get('state')!r}, sent {state!r}")


@rule("ekool", named("authorize"))
def authorize_redirects_unknown_scope_as_error(client: EkoolClient, op: Operation) -> None:
    """An unknown scope is answered by a redirect to the registered URI with `error=invalid_scope`,
    `error_description`, `hint` and `message`.

    Source: reference/ekool-oauth2.md "GET /oauth/authorize"; RFC 6749 §4.1.2.1.
    """
    response = client.login.get(client.authorize_query(scopes=("users-basic", "no-such-scope")))
    expect(_is_redirect_to(response, client.ekool.redirect_uri), f"expected a redirect, got {response.status_code}")
    query = httpx.URL(response.headers["location"]).params
    expect(query.get("error") == "invalid_scope", f"error is {query.get('error')!r}")
    for name in ("error_description", "hint", "message"):
        expect(query.get(name), f"the error redirect has no {name}")


@rule("ekool", named("authorize"), profiles=("rfc",), deviation=True)
def error_redirects_keep_state(client: EkoolClient, op: Operation) -> None:
    """The `invalid_scope` error redirect carries the request's `state` (league 8 checks scopes before it
    reads `state`, so it drops it; fixed in league 9.0.1).

    Source: RFC 6749 §4.1.2.1 (`state` REQUIRED in the error response if it was in the request);
    reference/ekool-oauth2.md "Measured" (the `state`-less `invalid_scope` redirect).
    """
    response = client.login.get(client.authorize_query(scopes=("users-basic", "no-such-scope"), state="kept"))
    expect(response.is_redirect, f"expected the error redirect, got {response.status_code}")
    state = httpx.URL(response.headers["location"]).params.get("state")
    expect(state == "kept", f"the error redirect's state is {state!r}, sent 'kept'")


@rule("ekool", named("issueToken"))
def code_is_single_use(client: EkoolClient, op: Operation) -> None:
    """A code gives tokens once; the second exchange is refused (400 `invalid_request` as league 8, or
    `invalid_grant` as league 9 and the RFC).

    Source: reference/ekool-oauth2.md "POST /oauth/token" (`Authorization code has been revoked`) and
    "Measured" (league versions); RFC 6749 §4.1.2, §5.2 and §10.5.
    """
    code = client.code()
    _status(client.exchange(code), 200)
    _one_of(client.exchange(code), *SPENT_CODE)


@rule("ekool", named("issueToken"), profiles=LEAGUE_8)
def reused_code_is_leagues_invalid_request(client: EkoolClient, op: Operation) -> None:
    """The deployed system (league 8) answers a reused code with 400 `invalid_request`, hint
    `Authorization code has been revoked`.

    Source: reference/ekool-oauth2.md "POST /oauth/token" and "Measured against the genuine library".
    """
    code = client.code()
    _status(client.exchange(code), 200)
    body = _status(client.exchange(code), 400, "invalid_request")
    expect(body and body.get("hint") == "Authorization code has been revoked", f"hint is {body and body.get('hint')!r}")


@rule("ekool", named("issueToken"), profiles=("rfc",), deviation=True)
def reused_code_revokes_its_tokens(client: EkoolClient, op: Operation) -> None:
    """A reused code revokes the tokens issued from it (league 8 does not).

    Source: RFC 6749 §4.1.2 ("SHOULD revoke (when possible) all tokens previously issued based on that
    authorization code"); reference/ekool-oauth2.md "Measured" (a replayed code does not revoke).
    """
    code = client.code()
    first = client.exchange(code)
    _status(first, 200)
    client.exchange(code)
    after = client.resource("/user/me/basic", _json(first)["access_token"])
    expect(after.status_code == 401, f"the token from a replayed code still answers {after.status_code}")


@rule("ekool", named("issueToken"))
def code_is_bound_to_client(client: EkoolClient, op: Operation) -> None:
    """Another client cannot exchange a code issued to this one.

    Source: reference/ekool-oauth2.md (`Authorization code was not issued to this client`); RFC 6749 §4.1.3.
    """
    code = client.code()
    _status(client.exchange(code, other_client=True), 400, "invalid_request")


@rule("ekool", named("issueToken"))
def code_is_bound_to_redirect_uri(client: EkoolClient, op: Operation) -> None:
    """A code is exchanged only with the `redirect_uri` it was issued for: another registered URI or none
    gets 400 `invalid_request`, an unregistered one 401 `invalid_client`; the right one still works after.

    Source: reference/ekool-oauth2.md (`Invalid redirect URI`, ``Check the `redirect_uri` parameter``,
    unregistered → `invalid_client`); RFC 6749 §4.1.3.
    """
    code = client.code()
    if client.ekool.other_redirect_uri:
        _status(client.exchange(code, redirect_uri=client.ekool.other_redirect_uri), 400, "invalid_request")
    _status(client.exchange(code, redirect_uri=client.ekool.unregistered_redirect_uri), 401, "invalid_client")
    response = client.login.post(TOKEN, data={"grant_type": "authorization_code", **client.client_credentials(),
                                              "code": code})
    _status(response, 400, "invalid_request")
    _status(client.exchange(code), 200)


@rule("ekool", named("issueToken"))
def pkce_verifier_is_checked(client: EkoolClient, op: Operation) -> None:
    """With an S256 challenge, a wrong verifier gets 400 `invalid_grant`, none gets `invalid_request`,
    and only the right one gives tokens.

    Source: reference/ekool-oauth2.md "POST /oauth/token" (PKCE); RFC 7636 §4.6.
    """
    pkce = Pkce.new()
    code = client.code(pkce=pkce)
    _status(client.exchange(code, verifier=Pkce.new().verifier), 400, "invalid_grant")
    code = client.code(pkce=pkce)
    _status(client.exchange(code), 400, "invalid_request")
    code = client.code(pkce=pkce)
    _status(client.exchange(code, verifier=pkce.verifier), 200)


@rule("ekool", named("issueToken"))
def refresh_rotates_tokens(client: EkoolClient, op: Operation) -> None:
    """Refreshing issues a new pair and revokes the old refresh and access tokens.

    Source: reference/ekool-oauth2.md "grant_type=refresh_token" (Rotation); RFC 6749 §6, RFC 9700 §4.14.2.
    """
    old = client.tokens()
    response = client.refresh(old["refresh_token"])
    _status(response, 200)
    new = _json(response)
    expect(new.get("refresh_token") and new["refresh_token"] != old["refresh_token"], "refresh token not rotated")
    expect(new.get("access_token") and new["access_token"] != old["access_token"], "access token not renewed")
    _one_of(client.refresh(old["refresh_token"]), *SPENT_REFRESH)
    _status(client.resource("/user/me/basic", old["access_token"]), 401, "access_denied")
    _status(client.resource("/user/me/basic", new["access_token"]), 200)


@rule("ekool", named("issueToken"), profiles=LEAGUE_8)
def revoked_refresh_token_is_leagues_invalid_request(client: EkoolClient, op: Operation) -> None:
    """The deployed system (league 8) answers a rotated refresh token with 401 `invalid_request`, hint
    `Token has been revoked`.

    Source: reference/ekool-oauth2.md "grant_type=refresh_token" and "Measured against the genuine library".
    """
    old = client.tokens()
    _status(client.refresh(old["refresh_token"]), 200)
    body = _status(client.refresh(old["refresh_token"]), 401, "invalid_request")
    expect(body and body.get("hint") == "Token has been revoked", f"hint is {body and body.get('hint')!r}")


@rule("ekool", named("issueToken"))
def refresh_token_is_bound_to_client(client: EkoolClient, op: Operation) -> None:
    """Another client cannot use this client's refresh token: 401 `invalid_request`.

    Source: reference/ekool-oauth2.md (`Token is not linked to client`); RFC 6749 §6.
    """
    tokens = client.tokens()
    _status(client.refresh(tokens["refresh_token"], other_client=True), 401, "invalid_request")


@rule("ekool", named("issueToken"))
def refresh_refuses_wider_scope(client: EkoolClient, op: Operation) -> None:
    """A refresh may narrow the scopes but asking for more than granted gets 400 `invalid_scope`.

    Source: reference/ekool-oauth2.md "grant_type=refresh_token"; RFC 6749 §6.
    """
    tokens = client.tokens(scopes=("users-basic",))
    _status(client.refresh(tokens["refresh_token"], scope="users-basic users-children"), 400, "invalid_scope")


@rule("ekool", named("issueToken"))
def token_rejects_wrong_client_secret(client: EkoolClient, op: Operation) -> None:
    """A wrong client secret gets 401 `invalid_client`, whatever the grant.

    Source: reference/ekool-oauth2.md "Error body"; RFC 6749 §5.2.
    """
    data = {"grant_type": "refresh_token", "client_id": client.ekool.client_id,
            "client_secret": "wrong-" + secrets.token_hex(8), "refresh_token": "x"}
    _status(client.login.post(TOKEN, data=data), 401, "invalid_client")


@rule("ekool", named("issueToken"))
def access_token_verifies_and_carries_granted_scopes(client: EkoolClient, op: Operation) -> None:
    """The access token is an RS256 JWT verifying with the published keys, with `aud` = client, an 80-hex
    `jti`, `exp - iat` within a second of `expires_in` (league's is a little under it), and exactly the granted
    `scopes`. NumericDates may be integers or fractional (league writes microseconds); `kid` is optional.

    Source: reference/ekool-oauth2.md "Token formats" and "Measured against the genuine library"; seeds/002
    (token response); RFC 9068 §2.2; RFC 7519 §2 (NumericDate).
    """
    granted = ("users-basic", "users-schools")
    body = client.tokens(scopes=granted)
    expect(body.get("token_type") == "Bearer", f"token_type is {body.get('token_type')!r}")
    header, _ = jwts.unverified(body["access_token"])
    expect(header.get("alg") == "RS256" and header.get("typ") == "JWT", f"header is {header!r}")
    try:
        claims = jwts.verify_with_jwks(body["access_token"], client.jwks, leeway=0)
    except jwt.InvalidTokenError as exc:
        raise AssertionError(f"access token does not verify with the published keys: {exc}") from None
    expect(claims.get("aud") == client.ekool.client_id, f"aud is {claims.get('aud')!r}")
    expect(isinstance(claims.get("jti"), str) and JTI.match(claims["jti"]), f"jti is {claims.get('jti')!r}")
    expect(sorted(claims.get("scopes", [])) == sorted(granted), f"scopes {claims.get('scopes')!r}, granted {granted}")
    lifetime, expires_in = claims["exp"] - claims["iat"], body.get("expires_in")
    expect(isinstance(expires_in, int | float) and abs(lifetime - expires_in) <= 1,
           f"exp - iat = {lifetime}, expires_in = {expires_in!r}")


def _no_store(response: httpx.Response) -> None:
    if not response.is_success:  # league sends no-store on success only; RFC 6749 §5.1 asks no more
        return
    cache_control = response.headers.get("cache-control", "")
    expect("no-store" in cache_control, f"{response.status_code} answer has Cache-Control {cache_control!r}")
    expect(response.headers.get("pragma") == "no-cache",
           f"{response.status_code} answer has Pragma {response.headers.get('pragma')!r}")


@rule("ekool", named("issueToken"), each_response=_no_store)
def token_responses_are_no_store(client: EkoolClient, op: Operation) -> None:
    """Successful token answers carry `Cache-Control: no-store` and `Pragma: no-cache` (errors need not: league
    sends them on success only).

    Source: RFC 6749 §5.1; reference/ekool-oauth2.md "Measured against the genuine library".
    """
    success = client.exchange(client.code())
    expect(success.is_success, f"a code exchange answered {success.status_code}")
    _no_store(success)


@rule("ekool", RESOURCE_OPS)
def resource_requires_token(client: EkoolClient, op: Operation) -> None:
    """Without a token, or with a forged one, a resource answers 401 `access_denied`.

    Source: reference/ekool-oauth2.md "Resource API"; RFC 6750 §3.1.
    """
    _status(client.resource(op.path, None), 401, "access_denied")
    forged = jwts.unsigned({"aud": client.ekool.client_id, "sub": "1", "scopes": list(client.ekool.scopes)})
    _status(client.resource(op.path, forged), 401, "access_denied")


@rule("ekool", named("getMyBasic"), profiles=("rfc",), deviation=True)
def resource_401_carries_www_authenticate(client: EkoolClient, op: Operation) -> None:
    """A resource's 401 carries a `WWW-Authenticate: Bearer` challenge (league's carry none).

    Source: RFC 6750 §3 (the resource server MUST include `WWW-Authenticate`); reference/ekool-oauth2.md
    "Measured" (resource 401s have no `WWW-Authenticate`).
    """
    response = client.resource(op.path, None)
    expect(response.status_code == 401, f"expected 401, got {response.status_code}")
    challenge = response.headers.get("www-authenticate", "")
    expect(challenge.lower().startswith("bearer"), f"WWW-Authenticate is {challenge!r}")


@rule("ekool", RESOURCE_OPS)
def resource_requires_its_scope(client: EkoolClient, op: Operation) -> None:
    """A token without the endpoint's scope gets 403 `insufficient_scope` naming it in `WWW-Authenticate`;
    a token with only that scope gets 200.

    Source: reference/ekool-oauth2.md "Resource API"; seeds/002 (scopes per endpoint); RFC 6750 §3.1.
    """
    needed = RESOURCE_SCOPES[op.path]
    others = tuple(scope for scope in client.ekool.scopes if scope != needed)
    response = client.resource(op.path, client.tokens(scopes=others)["access_token"])
    _status(response, 403, "insufficient_scope")
    challenge = response.headers.get("www-authenticate", "")
    expect('error="insufficient_scope"' in challenge and f'scope="{needed}"' in challenge,
           f"WWW-Authenticate is {challenge!r}")
    _status(client.resource(op.path, client.tokens(scopes=(needed,))["access_token"]), 200)


def _json_error_body_is_leagues(response: httpx.Response) -> None:
    """A 4xx JSON answer is league's error body."""
    media = response.headers.get("content-type", "").split(";")[0].strip()
    if 400 <= response.status_code < 500 and media == "application/json":
        _check_error_body(response)


@rule("ekool", either(named("authorize"), named("issueToken"), RESOURCE_OPS), each_response=_json_error_body_is_leagues)
def error_bodies_carry_error_description_message(client: EkoolClient, op: Operation) -> None:
    """JSON errors have `error`, `error_description`, optional `hint`, then `message` = `error_description`.

    Source: reference/ekool-oauth2.md "Error body" (league/oauth2-server 8); seeds/002 (401 example); RFC 6749 §5.2.
    """
    if op.operation_id == "authorize":
        answers = [client.login.get(client.authorize_query(client_id="no-such-client-" + secrets.token_hex(4)))]
    elif op.operation_id == "issueToken":
        answers = [client.login.post(TOKEN, data=data) for data in (
            {"grant_type": "password"}, {"grant_type": "authorization_code", **client.client_credentials()})]
    else:
        answers = [client.resource(op.path, None)]
    for response in answers:
        _check_error_body(response)


def _check_error_body(response: httpx.Response) -> None:
    _refused(response, "an erroneous request")
    body = _json(response)
    keys = [k for k in body if k != "hint"]
    expect(keys == ["error", "error_description", "message"],
           f"error body keys {list(body)}, expected error, error_description, (hint,) message")
    expect(body["message"] == body["error_description"], "message is not a copy of error_description")
