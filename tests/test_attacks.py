"""The attack corpus: each attack a client or an attacker can send, refused with the documented status and body.

JWT attacks are made from a genuine token of each place that checks one and sent there: the Sunbird
gateway (an HS256 credential on register, an RS256 device credential on refresh), the Sunbird refresh-token
check, and the eKool resource API. OAuth attacks go to eKool's authorize and token endpoints. Statuses and
bodies are those of reference/sunbird-api-manager.md and reference/ekool-oauth2.md.

A live server (uvicorn on 127.0.0.1) serves the whole module twice: as `harness serve` runs it (the fast path
answers valid requests to the hot operations, tokens verified once are remembered) and with connexion alone
and response validation on. Every attack starts from fresh tokens, so the cases do not depend on each other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from harness.apis.ekool import ACCESS_KID
from harness.conformance import jwts
from harness.conformance.config import ConformConfig
from harness.conformance.ekool.client import EkoolClient, Pkce
from harness.conformance.sunbird.client import SunbirdClient
from harness.conformance.transport import Transport
from harness.server import HarnessApp, create_app
from harness.settings import Settings
from harness.testing.live import ThreadedServer

MEGABYTE = 1 << 20
ATTACKER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


# --- forging tokens ------------------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _segment(data: dict[str, Any]) -> str:
    return _b64(json.dumps(data, separators=(",", ":")).encode())


Signer = Callable[[bytes], bytes]


def hmac_signer(key: bytes) -> Signer:
    return lambda signing_input: hmac.new(key, signing_input, hashlib.sha256).digest()


def rsa_signer(private_key: rsa.RSAPrivateKey) -> Signer:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return lambda signing_input: private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())


def forge(header: dict[str, Any], claims: dict[str, Any], sign: Signer | None) -> str:
    """A compact JWS signed by `sign` (no signature when None), written byte for byte by us, not by PyJWT."""
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    signature = _b64(sign(signing_input.encode())) if sign else ""
    return f"{signing_input}.{signature}"


@dataclass(frozen=True)
class Genuine:
    """A token the server issued, and how the server itself signs (for correctly signed bad claims)."""

    token: str
    server_signer: Signer
    public_pem: bytes

    @property
    def header(self) -> dict[str, Any]:
        return jwts.unverified(self.token)[0]

    @property
    def claims(self) -> dict[str, Any]:
        return jwts.unverified(self.token)[1]

    def resigned(self, **claims: Any) -> str:
        """The same header, the claims changed (None removes one), signed with the server's own key."""
        changed = {k: v for k, v in {**self.claims, **claims}.items() if v is not None}
        return forge(self.header, changed, self.server_signer)


def alg_none(genuine: Genuine) -> str:
    return forge({**genuine.header, "alg": "none"}, genuine.claims, None)


def hs256_with_public_key(genuine: Genuine) -> str:
    """The classic key-confusion attack: HMAC keyed with the verifier's published RSA public key."""
    return forge({**genuine.header, "alg": "HS256"}, genuine.claims, hmac_signer(genuine.public_pem))


def bad_signature(genuine: Genuine) -> str:
    return jwts.tampered(genuine.token)


def unknown_kid(genuine: Genuine) -> str:
    """Signed by the attacker's own RSA key, whose kid the server has never seen."""
    return forge({**genuine.header, "alg": "RS256", "kid": "attacker-key-1"}, genuine.claims,
                 rsa_signer(ATTACKER_KEY))


def expired(genuine: Genuine) -> str:
    now = int(time.time())
    return genuine.resigned(iat=now - 7200, exp=now - 3600)


def not_yet_valid(genuine: Genuine) -> str:
    now = int(time.time())
    return genuine.resigned(iat=now + 3600, nbf=now + 3600, exp=now + 7200)


def tampered_claims(genuine: Genuine, **changes: Any) -> str:
    """Changed claims under the genuine token's old signature."""
    head, _, signature = genuine.token.split(".")
    return f"{head}.{_segment({**genuine.claims, **changes})}.{signature}"


def huge(genuine: Genuine, size: int = MEGABYTE) -> str:
    """A token of at least `size` characters: the genuine claims plus padding, under the old signature."""
    pad = (size - len(tampered_claims(genuine, pad=""))) * 3 // 4
    token = tampered_claims(genuine, pad="A" * pad)
    while len(token) < size:
        pad += 1
        token = tampered_claims(genuine, pad="A" * pad)
    return token


def non_base64(genuine: Genuine) -> str:
    head, body, signature = genuine.token.split(".")
    return f"{head[:-4]}*%!~.{body[:-3]}$@#.{signature[:-2]}!!"


def standard_base64(genuine: Genuine) -> str:
    return jwts.standard_base64_signature(genuine.token)


# --- the server and its clients -------------------------------------------------------------------------------


@dataclass
class Target:
    """The live server (in this process, so tests can sign with its own keys) and clients that talk to it."""

    app: HarnessApp
    sunbird: SunbirdClient
    ekool: EkoolClient
    http: httpx.Client

    def server_signer(self, kid: str) -> Signer:
        return rsa_signer(self.app.ctx.keys.private(kid))

    def public_pem(self, kid: str) -> bytes:
        """The key as an attacker gets it: from the published JWKS, written as PEM."""
        jwks = self.http.get("/.well-known/jwks.json").json()
        jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
        return jwt.PyJWK(jwk, algorithm="RS256").key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def genuine_rs256(self, token: str, kid: str | None = None) -> Genuine:
        """`token` and the key that signed it: the one its `kid` names, else `kid` (eKool's carry none)."""
        kid = jwts.unverified(token)[0].get("kid", kid)
        assert kid is not None
        return Genuine(token, self.server_signer(kid), self.public_pem(kid))


@pytest.fixture(scope="module", params=["fast-path", "connexion-validated"])
def target(request: pytest.FixtureRequest, state_template: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Target]:
    state = tmp_path_factory.mktemp("attacks") / "state"
    shutil.copytree(state_template, state)
    connexion_only = request.param == "connexion-validated"
    app = create_app(Settings(state_dir=state, auto_login="mari", validate_responses=connexion_only,
                              fast_path=not connexion_only))
    with ThreadedServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        config = ConformConfig(target=server.url)
        transport = Transport(server.url, timeout=30)
        try:
            yield Target(app, SunbirdClient(config, transport), EkoolClient(config, transport), http)
        finally:
            transport.close()


# --- expected refusals ----------------------------------------------------------------------------------------

Expectation = Callable[[httpx.Response], None]


def gateway(status: int, message: str) -> Expectation:
    """Kong's answer: the status and exactly `{"message": ...}` (reference note, "Gateway")."""

    def check(response: httpx.Response) -> None:
        assert (response.status_code, response.json()) == (status, {"message": message}), response.text[:300]

    return check


def accepted(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text[:300]
    assert response.json()["params"]["status"] == "successful"


def invalid_grant(response: httpx.Response) -> None:
    """The refresh service's refusal (reference note, "Refresh"): 400, invalid_grant twice, empty result."""
    assert response.status_code == 400, response.text[:300]
    body = response.json()
    assert list(body) == ["id", "ver", "ts", "params", "result"]
    assert (body["id"], body["ver"]) == ("api.refresh.token", "1.0")
    assert "msgid" not in body["params"]
    assert (body["params"]["status"], body["params"]["err"], body["params"]["errmsg"]) == (
        "failed", "invalid_grant", "invalid_grant")
    assert body["result"] == {"access_token": None, "expires_in": 0, "refresh_expires_in": 0, "refresh_token": None}


def too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text[:300]
    assert response.json() == {"message": "Request size limit exceeded"}


ACCESS_DENIED = "The resource owner or authorization server denied the request."


def access_denied(hint: str | None) -> Expectation:
    """league's resource-server refusal: 401 access_denied; `hint=None` means a parse error's own text."""

    def check(response: httpx.Response) -> None:
        assert response.status_code == 401, response.text[:300]
        body = response.json()
        assert list(body) == ["error", "error_description", "hint", "message"]
        assert (body["error"], body["error_description"], body["message"]) == (
            "access_denied", ACCESS_DENIED, ACCESS_DENIED)
        if hint is None:
            assert body["hint"] and body["hint"] != "Access token could not be verified"
        else:
            assert body["hint"] == hint

    return check


NOT_VERIFIED = access_denied("Access token could not be verified")


def oauth_error(status: int, error: str, hint: str | None, description: str | None = None) -> Expectation:
    """league's JSON error body, keys in order error, error_description, hint, message."""

    def check(response: httpx.Response) -> None:
        assert response.status_code == status, response.text[:300]
        body = response.json()
        expected_keys = ["error", "error_description", "hint", "message"] if hint else [
            "error", "error_description", "message"]
        assert list(body) == expected_keys
        assert body["error"] == error and body.get("hint") == hint
        assert body["message"] == body["error_description"]
        if description is not None:
            assert body["error_description"] == description
        assert "location" not in response.headers

    return check


# --- where each JWT goes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A place that checks a JWT: how to get a genuine one there, and how to send a forged one."""

    genuine: Callable[[Target], Genuine]
    send: Callable[[Target, str], httpx.Response]


def _gateway_hs256(target: Target) -> Genuine:
    secret = target.sunbird.sunbird.credentials["mobile_app"].secret.encode()
    return Genuine(target.sunbird.bearer("mobile_app"), hmac_signer(secret), b"")


def _register_with(target: Target, bearer: str) -> httpx.Response:
    return target.sunbird.register(1, "mobile_device", bearer=bearer)


def _device_token(target: Target) -> Genuine:
    return target.genuine_rs256(target.sunbird.device_token("mobile_device"))


def _refresh_with_bearer(target: Target, bearer: str) -> httpx.Response:
    return target.sunbird.refresh(target.sunbird.realm_refresh_token(), bearer=bearer)


def _realm_refresh_token(target: Target) -> Genuine:
    response = target.http.post(target.sunbird.sunbird.realm_token_path, data={
        "grant_type": "password", "client_id": "android", "username": "learner", "password": "learner"})
    assert response.status_code == 200, response.text
    return target.genuine_rs256(response.json()["refresh_token"])


def _refresh_token_check(target: Target, refresh_token: str) -> httpx.Response:
    return target.sunbird.refresh(refresh_token, bearer=target.sunbird.device_token("mobile_device"))


def _ekool_access_token(target: Target) -> Genuine:
    return target.genuine_rs256(target.ekool.tokens()["access_token"], ACCESS_KID)


def _ekool_resource(target: Target, access_token: str) -> httpx.Response:
    return target.ekool.resource("/user/me/basic", access_token)


GATEWAY_HS256 = Place(_gateway_hs256, _register_with)
GATEWAY_RS256 = Place(_device_token, _refresh_with_bearer)
REFRESH_CHECK = Place(_realm_refresh_token, _refresh_token_check)
EKOOL_RESOURCE = Place(_ekool_access_token, _ekool_resource)

NO_CREDENTIAL = gateway(403, "No credentials found for given 'iss'")
BAD_ALGORITHM = gateway(403, "Invalid algorithm")
BAD_SIGNATURE = gateway(403, "Invalid signature")
UNAUTHORIZED = gateway(401, "Unauthorized")


def _escalated(genuine: Genuine) -> str:
    """Another identity under the old signature: the admin credential's iss, another user, more scopes."""
    return tampered_claims(genuine, iss="mobile_admin_key", sub="2", typ="Offline",
                           scopes=["users-basic", "users-roles", "users-schools", "users-children", "*"])


def _refresh_expired(genuine: Genuine) -> str:
    """A `Refresh` token past its `exp`, and an `Offline` one past `iat` + 30 days (reference note)."""
    now = int(time.time())
    if genuine.claims.get("typ") == "Offline":
        return genuine.resigned(iat=now - 31 * 24 * 3600, exp=None)
    return genuine.resigned(exp=now - 60)


JWT_ATTACKS: list[tuple[str, Place, Callable[[Genuine], str], Expectation]] = [
    # Sunbird gateway, HS256 credential (mobile_app on v1 register). Kong checks no exp/nbf claim.
    ("gateway-hs256-alg-none", GATEWAY_HS256, alg_none, BAD_ALGORITHM),
    ("gateway-hs256-bad-signature", GATEWAY_HS256, bad_signature, BAD_SIGNATURE),
    ("gateway-hs256-unknown-kid", GATEWAY_HS256, unknown_kid, NO_CREDENTIAL),
    ("gateway-hs256-expired-is-not-checked", GATEWAY_HS256, expired, accepted),
    ("gateway-hs256-nbf-is-not-checked", GATEWAY_HS256, not_yet_valid, accepted),
    ("gateway-hs256-tampered-claims", GATEWAY_HS256, _escalated, BAD_SIGNATURE),
    ("gateway-hs256-1mb-token", GATEWAY_HS256, huge, BAD_SIGNATURE),
    ("gateway-hs256-non-base64", GATEWAY_HS256, non_base64, UNAUTHORIZED),
    ("gateway-hs256-standard-base64-signature-accepted", GATEWAY_HS256, standard_base64, accepted),
    # Sunbird gateway, RS256 device credential (v2 token on refresh).
    ("gateway-rs256-alg-none", GATEWAY_RS256, alg_none, BAD_ALGORITHM),
    ("gateway-rs256-hs256-with-public-key", GATEWAY_RS256, hs256_with_public_key, BAD_ALGORITHM),
    ("gateway-rs256-bad-signature", GATEWAY_RS256, bad_signature, BAD_SIGNATURE),
    ("gateway-rs256-unknown-kid", GATEWAY_RS256, unknown_kid, NO_CREDENTIAL),
    ("gateway-rs256-expired-is-not-checked", GATEWAY_RS256, expired, accepted),
    ("gateway-rs256-tampered-claims", GATEWAY_RS256, _escalated, BAD_SIGNATURE),
    ("gateway-rs256-1mb-token", GATEWAY_RS256, huge, BAD_SIGNATURE),
    ("gateway-rs256-non-base64", GATEWAY_RS256, non_base64, UNAUTHORIZED),
    # Sunbird refresh service: the realm refresh token in the form.
    ("refresh-token-alg-none", REFRESH_CHECK, alg_none, invalid_grant),
    ("refresh-token-hs256-with-public-key", REFRESH_CHECK, hs256_with_public_key, invalid_grant),
    ("refresh-token-bad-signature", REFRESH_CHECK, bad_signature, invalid_grant),
    ("refresh-token-unknown-kid", REFRESH_CHECK, unknown_kid, invalid_grant),
    ("refresh-token-expired", REFRESH_CHECK, _refresh_expired, invalid_grant),
    ("refresh-token-iat-in-future", REFRESH_CHECK, not_yet_valid, invalid_grant),
    ("refresh-token-tampered-claims", REFRESH_CHECK, _escalated, invalid_grant),
    ("refresh-token-1mb-over-the-body-limit", REFRESH_CHECK, huge, too_large),
    ("refresh-token-900kb", REFRESH_CHECK, lambda g: huge(g, 900_000), invalid_grant),
    ("refresh-token-non-base64", REFRESH_CHECK, non_base64, invalid_grant),
    ("refresh-token-standard-base64-signature", REFRESH_CHECK, standard_base64, invalid_grant),
    # eKool resource API: the access token.
    ("ekool-resource-alg-none", EKOOL_RESOURCE, alg_none, NOT_VERIFIED),
    ("ekool-resource-hs256-with-public-key", EKOOL_RESOURCE, hs256_with_public_key, NOT_VERIFIED),
    ("ekool-resource-bad-signature", EKOOL_RESOURCE, bad_signature, NOT_VERIFIED),
    ("ekool-resource-unknown-kid", EKOOL_RESOURCE, unknown_kid, NOT_VERIFIED),
    ("ekool-resource-expired", EKOOL_RESOURCE, expired, NOT_VERIFIED),
    ("ekool-resource-nbf-in-future", EKOOL_RESOURCE, not_yet_valid, NOT_VERIFIED),
    ("ekool-resource-tampered-claims", EKOOL_RESOURCE, _escalated, NOT_VERIFIED),
    ("ekool-resource-1mb-token", EKOOL_RESOURCE, huge, NOT_VERIFIED),
    ("ekool-resource-non-base64", EKOOL_RESOURCE, non_base64, access_denied(None)),
    ("ekool-resource-standard-base64-signature", EKOOL_RESOURCE, standard_base64, access_denied(None)),
]


@pytest.mark.parametrize(("place", "attack", "expect"), [case[1:] for case in JWT_ATTACKS],
                         ids=[case[0] for case in JWT_ATTACKS])
def test_jwt_attack(target: Target, place: Place, attack: Callable[[Genuine], str], expect: Expectation) -> None:
    genuine = place.genuine(target)
    forged = attack(genuine)
    assert forged != genuine.token
    expect(place.send(target, forged))
    # The server is unharmed: the genuine token still works at the same place afterwards.
    assert place.send(target, genuine.token).status_code == 200


def test_huge_tokens_are_really_one_megabyte(target: Target) -> None:
    for genuine in (_gateway_hs256(target), _ekool_access_token(target)):
        assert MEGABYTE <= len(huge(genuine)) <= MEGABYTE + 2


def test_gateway_acl_refuses_another_consumers_route(target: Target) -> None:
    """A valid credential of `mobile_app` may not register `desktop_device`s (reference note, ACL table)."""
    response = target.sunbird.register(1, "desktop_device", bearer=target.sunbird.bearer("mobile_app"))
    gateway(403, "You cannot consume this service")(response)


def test_gateway_without_token_is_unauthorized(target: Target) -> None:
    response = target.http.post("/api/api-manager/v1/consumer/mobile_device/credential/register",
                                json={"request": {"key": "attack-no-token"}})
    UNAUTHORIZED(response)


# --- OAuth: eKool authorize and token endpoints ---------------------------------------------------------------

REVOKED_CODE = oauth_error(400, "invalid_request", "Authorization code has been revoked")
INVALID_REQUEST_DESCRIPTION = ("The request is missing a required parameter, includes an invalid parameter value, "
                               "includes a parameter more than once, or is otherwise malformed.")


def test_code_replay_is_refused(target: Target) -> None:
    code = target.ekool.code()
    assert target.ekool.exchange(code).status_code == 200
    REVOKED_CODE(target.ekool.exchange(code))


def test_code_replay_through_the_other_client_is_refused(target: Target) -> None:
    """A used code is revoked for everyone: the replay check comes before the client check (league order)."""
    code = target.ekool.code()
    assert target.ekool.exchange(code).status_code == 200
    REVOKED_CODE(target.ekool.exchange(code, other_client=True))


def test_another_clients_code_is_refused(target: Target) -> None:
    code = target.ekool.code()
    oauth_error(400, "invalid_request", "Authorization code was not issued to this client",
                INVALID_REQUEST_DESCRIPTION)(target.ekool.exchange(code, other_client=True))
    # The rightful client can still use it: the refusal did not burn the code.
    assert target.ekool.exchange(code).status_code == 200


def test_redirect_uri_mismatch_at_the_token_endpoint_is_refused(target: Target) -> None:
    code = target.ekool.code()
    oauth_error(400, "invalid_request", "Invalid redirect URI")(
        target.ekool.exchange(code, redirect_uri="http://127.0.0.1/callback"))


def test_missing_redirect_uri_at_the_token_endpoint_is_refused(target: Target) -> None:
    code = target.ekool.code()
    response = target.ekool.login.post("/oauth/token", data={
        "grant_type": "authorization_code", **target.ekool.client_credentials(), "code": code})
    oauth_error(400, "invalid_request", "Check the `redirect_uri` parameter")(response)


OPEN_REDIRECTS = [
    "https://attacker.invalid/callback",
    "http://localhost:3000/callback.attacker.invalid",
    "http://localhost:3000/callback/../../attacker",
    "http://localhost:3000@attacker.invalid/callback",
    "http://localhost:3001/callback",
    "http://127.0.0.1.attacker.invalid/callback",
    "//attacker.invalid/callback",
    "http://localhost:3000/callback?next=https://attacker.invalid",
    "javascript:alert(1)//localhost:3000/callback",
]


@pytest.mark.parametrize("redirect_uri", OPEN_REDIRECTS)
@pytest.mark.parametrize("scope", ["users-basic", "not-a-scope"])
def test_authorize_never_redirects_to_an_unregistered_uri(target: Target, redirect_uri: str, scope: str) -> None:
    """401 JSON invalid_client, no Location — even when the request has another error that would redirect."""
    query = target.ekool.authorize_query(redirect_uri=redirect_uri, scopes=(scope,), state="s1")
    response = target.ekool.login.get(query)
    oauth_error(401, "invalid_client", None, "Client authentication failed")(response)


def test_authorize_accepts_any_port_on_a_registered_loopback_uri(target: Target) -> None:
    """The control case of the open-redirect list: league ignores the port for 127.0.0.1 only."""
    response = target.ekool.login.get(target.ekool.authorize_query(redirect_uri="http://127.0.0.1:5173/callback"))
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith("http://127.0.0.1:5173/callback?")
    assert "code" in parse_qs(urlsplit(location).query)


def test_pkce_downgrade_without_verifier_is_refused(target: Target) -> None:
    """The code was bound to an S256 challenge; exchanging it without a verifier must fail."""
    code = target.ekool.code(pkce=Pkce.new("S256"))
    oauth_error(400, "invalid_request", "Check the `code_verifier` parameter")(target.ekool.exchange(code))


def test_pkce_downgrade_to_plain_is_refused(target: Target) -> None:
    """Sending the S256 challenge itself as the verifier (as if the method were plain) must fail."""
    pkce = Pkce.new("S256")
    code = target.ekool.code(pkce=pkce)
    oauth_error(400, "invalid_grant", "Failed to verify `code_verifier`.")(
        target.ekool.exchange(code, verifier=pkce.challenge))


def test_pkce_wrong_verifier_is_refused_and_the_right_one_works(target: Target) -> None:
    pkce = Pkce.new("S256")
    code = target.ekool.code(pkce=pkce)
    oauth_error(400, "invalid_grant", "Failed to verify `code_verifier`.")(
        target.ekool.exchange(code, verifier=Pkce.new().verifier))
    assert target.ekool.exchange(code, verifier=pkce.verifier).status_code == 200


def test_pkce_verifier_without_challenge_is_refused(target: Target) -> None:
    """league blocks the downgrade the other way round too: a verifier for a code that had no challenge
    (league 8.5 AuthCodeGrant: invalidRequest('code_challenge', 'code_verifier received when no ...'))."""
    code = target.ekool.code()
    oauth_error(400, "invalid_request", "code_verifier received when no code_challenge is present")(
        target.ekool.exchange(code, verifier=Pkce.new().verifier))


REVOKED_REFRESH = oauth_error(401, "invalid_request", "Token has been revoked", "The refresh token is invalid.")


def test_refresh_token_reuse_after_rotation_is_refused(target: Target) -> None:
    first = target.ekool.tokens()
    rotated = target.ekool.refresh(first["refresh_token"])
    assert rotated.status_code == 200
    REVOKED_REFRESH(target.ekool.refresh(first["refresh_token"]))
    # Rotation also revoked the old access token; the new pair works.
    access_denied("Access token has been revoked")(target.ekool.resource("/user/me/basic", first["access_token"]))
    assert target.ekool.resource("/user/me/basic", rotated.json()["access_token"]).status_code == 200
    assert target.ekool.refresh(rotated.json()["refresh_token"]).status_code == 200


def test_another_clients_refresh_token_is_refused(target: Target) -> None:
    tokens = target.ekool.tokens()
    oauth_error(401, "invalid_request", "Token is not linked to client", "The refresh token is invalid.")(
        target.ekool.refresh(tokens["refresh_token"], other_client=True))
    assert target.ekool.refresh(tokens["refresh_token"]).status_code == 200


def test_scope_widening_on_refresh_is_refused(target: Target) -> None:
    tokens = target.ekool.tokens(scopes=("users-basic",))
    oauth_error(400, "invalid_scope", "Check the `users-roles` scope",
                "The requested scope is invalid, unknown, or malformed")(
        target.ekool.refresh(tokens["refresh_token"], scope="users-basic users-roles"))
    # Narrowing to what was granted is fine, and the refused attempt did not spend the token.
    assert target.ekool.refresh(tokens["refresh_token"], scope="users-basic").status_code == 200


def test_access_token_without_the_scope_gets_403(target: Target) -> None:
    tokens = target.ekool.tokens(scopes=("users-basic",))
    response = target.ekool.resource("/user/me/roles", tokens["access_token"])
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    assert response.headers["www-authenticate"] == 'Bearer error="insufficient_scope", scope="users-roles"'


def league_refusal(status: int, parameter: str, cannot_decrypt: str) -> Expectation:
    """What league answers for a forged code or refresh token: it cannot decrypt it. For a 1 MB value PHP
    parses the form and answers the same; a stand-in that refuses the oversized field itself may instead
    answer 400 ``Check the `<parameter>` parameter``. Either is league's body; a 500 is not."""

    def check(response: httpx.Response) -> None:
        assert response.status_code in (status, 400), response.text[:300]
        hint = cannot_decrypt if response.status_code == status else f"Check the `{parameter}` parameter"
        oauth_error(response.status_code, "invalid_request", hint)(response)

    return check


def _flip_last(value: str) -> str:
    return value[:-1] + ("0" if value[-1] != "0" else "1")


@pytest.mark.parametrize("forge_refresh", [
    pytest.param(lambda token, access: "A" * MEGABYTE, id="1mb"),
    pytest.param(lambda token, access: _flip_last(token), id="tampered"),
    pytest.param(lambda token, access: "%%%not-base64-or-hex%%%", id="non-base64"),
    pytest.param(lambda token, access: access, id="access-token-as-refresh-token"),
    pytest.param(lambda token, access: jwts.unsigned({"sub": "1", "client_id": "x"}), id="alg-none-jwt"),
])
def test_forged_refresh_token_cannot_be_decrypted(target: Target, forge_refresh: Callable[[str, str], str]) -> None:
    tokens = target.ekool.tokens()
    response = target.ekool.refresh(forge_refresh(tokens["refresh_token"], tokens["access_token"]))
    league_refusal(401, "refresh_token", "Cannot decrypt the refresh token")(response)
    if response.status_code == 401:
        assert response.json()["error_description"] == "The refresh token is invalid."


@pytest.mark.parametrize("forge_code", [
    pytest.param(lambda code: "A" * MEGABYTE, id="1mb"),
    pytest.param(_flip_last, id="tampered"),
    pytest.param(lambda code: "%%%not-base64%%%", id="non-base64"),
])
def test_forged_code_cannot_be_decrypted(target: Target, forge_code: Callable[[str], str]) -> None:
    code = target.ekool.code()
    league_refusal(400, "code", "Cannot decrypt the authorization code")(target.ekool.exchange(forge_code(code)))
    assert target.ekool.exchange(code).status_code == 200, "a forged code must not burn the real one"


FORM_ENDPOINTS = [
    ("/oauth/token", {"grant_type": "refresh_token", "client_id": "ekooldemoclient00000000000000001"}, "refresh_token"),
    ("/login", {"username": "mari"}, "password"),
    ("/auth/realms/sunbird/protocol/openid-connect/token",
     {"grant_type": "password", "client_id": "android", "username": "learner"}, "password"),
    ("/api/auth/realms/sunbird/protocol/openid-connect/token",
     {"grant_type": "refresh_token", "client_id": "android"}, "refresh_token"),
]


@pytest.mark.parametrize(("path", "form", "field"), FORM_ENDPOINTS, ids=[e[0] for e in FORM_ENDPOINTS])
def test_one_megabyte_form_field_is_a_client_error(target: Target, path: str, form: dict[str, str],
                                                   field: str) -> None:
    """A 1 MB token or password in a form is refused as bad input, never a 500."""
    response = target.http.post(path, data={**form, field: "A" * MEGABYTE})
    assert 400 <= response.status_code < 500, f"{response.status_code} {response.text[:300]}"
    assert response.headers["content-type"].startswith(("application/json", "text/html"))
