"""POST /oauth/token: both grants, every check, status, error and hint of reference/ekool-oauth2.md, in order;
token formats; rotation; storage."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time

import jwt
import pytest
from jwt.algorithms import RSAAlgorithm

from harness.apis.ekool import ACCESS_KID
from harness.apis.ekool.demo import digest
from harness.store import SqliteStore

from .conftest import (
    ALL_SCOPES,
    BASIC_CLIENT,
    BASIC_SECRET,
    DEMO_CLIENT,
    DEMO_SECRET,
    LOCALHOST_REDIRECT,
    REDIRECT,
    jwt_parts,
)

INVALID_REQUEST = ("The request is missing a required parameter, includes an invalid parameter value, includes a "
                   "parameter more than once, or is otherwise malformed.")


def error_of(response, status: int, error: str, hint: str | None = None) -> dict[str, str]:
    assert response.status_code == status, response.text
    # league's errors: plain JSON, no no-store (reference/ekool-oauth2.md, "Measured against the genuine library")
    assert response.headers["content-type"] == "application/json"
    assert "no-store" not in response.headers.get("cache-control", "") and "pragma" not in response.headers
    body = response.json()
    keys = ["error", "error_description", "hint", "message"] if hint is not None else [
        "error", "error_description", "message"]
    assert list(body) == keys, "league's key order"
    assert body["error"] == error and body["message"] == body["error_description"]
    if hint is not None:
        assert body["hint"] == hint
    return body


def invalid_request(response, hint: str, status: int = 400) -> None:
    body = error_of(response, status, "invalid_request", hint)
    assert body["error_description"] == INVALID_REQUEST


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# --- grant type and client authentication -------------------------------------------------------------------


@pytest.mark.parametrize("grant_type", [None, "", "password", "client_credentials", "AUTHORIZATION_CODE"])
def test_unsupported_grant_type_is_400(flow, grant_type):
    body = error_of(flow.token(grant_type=grant_type, client_id=DEMO_CLIENT), 400, "unsupported_grant_type",
                    "Check that all required parameters have been provided")
    assert body["error_description"] == "The authorization grant type is not supported by the authorization server."


@pytest.mark.parametrize("grant_type", ["authorization_code", "refresh_token"])
def test_missing_client_id_is_invalid_request(flow, grant_type):
    invalid_request(flow.token(grant_type=grant_type, client_secret=DEMO_SECRET), "Check the `client_id` parameter")


@pytest.mark.parametrize(("client_id", "secret"), [
    ("oaD43fvd3aCdf45dDsc428hMuY6T6trG", DEMO_SECRET), (DEMO_CLIENT, "8yFFEvVq65ukVTWtDVRMjttM5nyRg0ErCBJnRSlb"),
    (DEMO_CLIENT, None), (DEMO_CLIENT, ""), (DEMO_CLIENT, BASIC_SECRET),
])
def test_unknown_client_or_wrong_secret_is_401_invalid_client(flow, client_id, secret):
    response = flow.token(grant_type="authorization_code", client_id=client_id, client_secret=secret, code="x")
    body = error_of(response, 401, "invalid_client")
    assert body["error_description"] == "Client authentication failed"
    assert "www-authenticate" not in response.headers


def test_client_may_authenticate_with_http_basic(flow, client):
    code = flow.code()
    response = client.post("/oauth/token", headers=basic(DEMO_CLIENT, DEMO_SECRET),
                           data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
    assert response.status_code == 200, response.text


def test_wrong_basic_credentials_get_a_basic_challenge(client):
    response = client.post("/oauth/token", headers=basic(DEMO_CLIENT, "wrong"),
                           data={"grant_type": "authorization_code", "code": "x"})
    error_of(response, 401, "invalid_client")
    assert response.headers["www-authenticate"] == 'Basic realm="OAuth"'


def test_body_credentials_win_over_basic(flow, client):
    code = flow.code()
    response = client.post("/oauth/token", headers=basic(DEMO_CLIENT, "wrong"), data={
        "grant_type": "authorization_code", "client_id": DEMO_CLIENT, "client_secret": DEMO_SECRET, "code": code,
        "redirect_uri": REDIRECT})
    assert response.status_code == 200, response.text


def test_unregistered_redirect_uri_at_the_token_endpoint_is_invalid_client(flow):
    error_of(flow.exchange(flow.code(), redirect_uri="https://evil.example/cb"), 401, "invalid_client")


# --- authorization_code ------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [None, "", "  "])  # Laravel: an empty value is null (reference note, "Measured")
def test_missing_code(flow, code):
    invalid_request(flow.exchange(code), "Check the `code` parameter")


@pytest.mark.parametrize("code", ["def50200", "def50200deadbeef", "eyJ0eXAiOiJKV1QifQ.e30.x"])
def test_undecodable_code(flow, code):
    invalid_request(flow.exchange(code), "Cannot decrypt the authorization code")


def test_expired_code(flow, app):
    code = flow.code()
    app.ctx.store.execute("UPDATE ekool_auth_codes SET expires_at = ? WHERE code_hash = ?",
                          (time.time() - 1, digest(code)))
    invalid_request(flow.exchange(code), "Authorization code has expired")


def test_a_code_expires_when_the_clock_passes_ten_minutes(flow, app):
    code, spare = flow.code(), flow.code()
    app.ctx.clock.advance(599)
    assert flow.exchange(spare).status_code == 200
    app.ctx.clock.advance(2)
    invalid_request(flow.exchange(code), "Authorization code has expired")


def test_codes_live_ten_minutes(flow, app):
    before = time.time()
    code = flow.code()
    row = app.ctx.store.one("SELECT expires_at FROM ekool_auth_codes WHERE code_hash = ?", (digest(code),))
    assert before + 600 <= row["expires_at"] <= time.time() + 600


def test_code_is_single_use(flow):
    code = flow.code()
    first = flow.exchange(code)
    assert first.status_code == 200
    invalid_request(flow.exchange(code), "Authorization code has been revoked")
    assert flow.get("/generaldata", first.json()["access_token"]).status_code == 200


def test_code_of_another_client(flow):
    code = flow.code()
    response = flow.exchange(code, client_id=BASIC_CLIENT, client_secret=BASIC_SECRET)
    invalid_request(response, "Authorization code was not issued to this client")
    assert flow.exchange(code).status_code == 200, "the refused attempt did not spend the code"


def test_redirect_uri_missing_when_the_code_has_one(flow):
    invalid_request(flow.exchange(flow.code(), redirect_uri=None), "Check the `redirect_uri` parameter")


@pytest.mark.parametrize("other", [LOCALHOST_REDIRECT, "http://127.0.0.1:5174/callback", "http://127.0.0.1/callback"])
def test_redirect_uri_other_than_the_codes(flow, other):
    """Registered, but not the URI the code was issued for (the port counts here)."""
    invalid_request(flow.exchange(flow.code(), redirect_uri=other), "Invalid redirect URI")


def test_check_order_client_before_code(flow):
    response = flow.exchange("garbage", client_secret="wrong", redirect_uri=None)
    error_of(response, 401, "invalid_client")


# --- PKCE -------------------------------------------------------------------------------------------------


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"


@pytest.mark.parametrize(("method", "challenge"), [("S256", s256(VERIFIER)), ("plain", VERIFIER), (None, VERIFIER)])
def test_pkce_success(flow, method, challenge):
    code = flow.code(code_challenge=challenge, code_challenge_method=method)
    assert flow.exchange(code, code_verifier=VERIFIER).status_code == 200


def test_pkce_mismatch_is_invalid_grant(flow):
    code = flow.code(code_challenge=s256(VERIFIER), code_challenge_method="S256")
    body = error_of(flow.exchange(code, code_verifier=VERIFIER[::-1]), 400, "invalid_grant",
                    "Failed to verify `code_verifier`.")
    assert body["error_description"].startswith("The provided authorization grant")


def test_pkce_plain_is_not_s256(flow):
    code = flow.code(code_challenge=s256(VERIFIER), code_challenge_method="plain")
    error_of(flow.exchange(code, code_verifier=VERIFIER), 400, "invalid_grant", "Failed to verify `code_verifier`.")


def test_pkce_missing_verifier(flow):
    code = flow.code(code_challenge=s256(VERIFIER), code_challenge_method="S256")
    invalid_request(flow.exchange(code), "Check the `code_verifier` parameter")


@pytest.mark.parametrize("verifier", ["short", "x" * 129, "a" * 42 + "+"])
def test_pkce_malformed_verifier(flow, verifier):
    code = flow.code(code_challenge=s256(VERIFIER), code_challenge_method="S256")
    invalid_request(flow.exchange(code, code_verifier=verifier),
                    "Code Verifier must follow the specifications of RFC-7636.")


def test_pkce_verifier_without_a_challenge_is_refused(flow):
    invalid_request(flow.exchange(flow.code(), code_verifier=VERIFIER),
                    "code_verifier received when no code_challenge is present")


# --- success: formats -------------------------------------------------------------------------------------


def test_token_response_body_headers_and_order(flow):
    """league's BearerTokenResponse: no-store, no-cache and `charset=UTF-8` on success (reference note, "Measured")."""
    response = flow.exchange(flow.code())
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store" and response.headers["pragma"] == "no-cache"
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    body = response.json()
    assert list(body) == ["token_type", "expires_in", "access_token", "refresh_token"]
    assert body["token_type"] == "Bearer" and body["expires_in"] == 604800


def test_access_token_is_league_shaped_rs256_jwt_verifiable_with_the_jwks(flow, client):
    before = int(time.time())
    token = flow.tokens(scope="users-basic users-children")["access_token"]
    raw_header = base64.urlsafe_b64decode(token.split(".")[0] + "==")
    assert raw_header.startswith(b'{"typ":"JWT","alg":"RS256"')
    header, claims = jwt_parts(token)
    assert header == {"typ": "JWT", "alg": "RS256"}  # no kid, as league's (reference note, "Measured")
    assert list(claims) == ["aud", "jti", "iat", "nbf", "exp", "sub", "scopes"]
    assert claims["aud"] == DEMO_CLIENT and claims["sub"] == "100001"
    assert re.fullmatch(r"[0-9a-f]{80}", claims["jti"])
    assert before <= claims["iat"] < claims["nbf"] <= time.time() + 1
    assert 604799 < claims["exp"] - claims["iat"] <= 604800
    assert claims["scopes"] == ["users-basic", "users-children"]
    jwk = next(k for k in client.get("/.well-known/jwks.json").json()["keys"] if k["kid"] == ACCESS_KID)
    verified = jwt.decode(token, RSAAlgorithm.from_jwk(json.dumps(jwk)), algorithms=["RS256"],
                          options={"verify_aud": False})
    assert verified == claims


def test_access_token_timestamps_have_microseconds_as_lcobucci_writes_them(flow):
    """lcobucci/jwt 4-5: `iat`/`nbf`/`exp` as `U.u` JSON numbers, `nbf` a microsecond after `iat`, `exp` from an
    earlier instant (reference/ekool-oauth2.md, "Measured against the genuine library")."""
    token = flow.tokens()["access_token"]
    raw = base64.urlsafe_b64decode(token.split(".")[1] + "==").decode()
    claims = json.loads(raw)
    assert re.search(r'"iat":\d{10}\.\d{1,6},', raw) and re.search(r'"exp":\d{10}(\.\d{1,6})?,', raw)
    assert round((claims["nbf"] - claims["iat"]) * 1_000_000) == 1
    assert claims["exp"] - claims["iat"] < 604800


def test_whole_second_timestamps_on_request(make_app):
    """`--ekool-integer-timestamps`: for teams whose clients want integer NumericDates."""
    from starlette.testclient import TestClient

    from .conftest import Flow

    with TestClient(make_app(ekool_integer_timestamps=True), base_url="http://127.0.0.1:8000") as http:
        claims = jwt_parts(Flow(http).tokens()["access_token"])[1]
    assert all(isinstance(claims[name], int) for name in ("iat", "nbf", "exp"))
    assert claims["exp"] - claims["iat"] in (604799, 604800)


def test_access_token_lifetime_is_configurable(make_app):
    from starlette.testclient import TestClient

    from .conftest import Flow

    with TestClient(make_app(lifetimes={"ekool_access": 60}), base_url="http://127.0.0.1:8000") as http:
        tokens = Flow(http).tokens()
    claims = jwt_parts(tokens["access_token"])[1]
    assert tokens["expires_in"] == 60 and 59 < claims["exp"] - claims["iat"] <= 60


def everything_in(store) -> str:
    """Every row of every table of the store, as text (either backend)."""
    if isinstance(store, SqliteStore):
        return "\n".join(store.connection().iterdump())
    tables = store.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'harness'")
    return "\n".join(str(list(row)) for (table,) in tables for row in store.query(f"SELECT * FROM {table}"))


def test_refresh_token_and_code_are_opaque_and_stored_hashed(flow, app):
    code = flow.code()
    tokens = flow.exchange(code).json()
    assert re.fullmatch(r"def50200[0-9a-f]{256}", tokens["refresh_token"])
    dump = everything_in(app.ctx.store)
    assert tokens["refresh_token"] not in dump and code not in dump
    assert digest(tokens["refresh_token"]) in dump and digest(code) in dump
    assert DEMO_SECRET not in dump and "ekoolbasicsecret" not in dump


# --- refresh_token ----------------------------------------------------------------------------------------


def test_refresh_rotates_the_pair_and_revokes_the_old_one(flow):
    old = flow.tokens()
    response = flow.refresh(old["refresh_token"])
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store" and response.headers["pragma"] == "no-cache"
    new = response.json()
    assert new["access_token"] != old["access_token"] and new["refresh_token"] != old["refresh_token"]
    assert jwt_parts(new["access_token"])[1]["scopes"] == ALL_SCOPES.split()
    assert flow.get("/generaldata", new["access_token"]).status_code == 200
    revoked = flow.get("/generaldata", old["access_token"])
    assert revoked.status_code == 401 and revoked.json()["hint"] == "Access token has been revoked"
    error_of(flow.refresh(old["refresh_token"]), 401, "invalid_request", "Token has been revoked")
    assert flow.refresh(new["refresh_token"]).status_code == 200


@pytest.mark.parametrize("token", [None, ""])  # Laravel: an empty value is null (reference note, "Measured")
def test_refresh_missing_token(flow, token):
    invalid_request(flow.refresh(token), "Check the `refresh_token` parameter")


@pytest.mark.parametrize("token", ["def5020c40fd20b6a62", "garbage"])
def test_refresh_undecodable_token(flow, token):
    body = error_of(flow.refresh(token), 401, "invalid_request", "Cannot decrypt the refresh token")
    assert body["error_description"] == "The refresh token is invalid."


def test_refresh_token_of_another_client(flow):
    tokens = flow.tokens()
    response = flow.refresh(tokens["refresh_token"], client_id=BASIC_CLIENT, client_secret=BASIC_SECRET)
    error_of(response, 401, "invalid_request", "Token is not linked to client")


def test_refresh_expired_token(flow, app):
    tokens = flow.tokens()
    app.ctx.store.execute("UPDATE ekool_refresh_tokens SET expires_at = ? WHERE token_hash = ?",
                          (time.time() - 1, digest(tokens["refresh_token"])))
    error_of(flow.refresh(tokens["refresh_token"]), 401, "invalid_request", "Token has expired")


def test_refresh_checks_the_client_first(flow):
    error_of(flow.refresh("garbage", client_secret="wrong"), 401, "invalid_client")


def test_refresh_may_narrow_the_scopes(flow):
    tokens = flow.tokens()
    narrowed = flow.refresh(tokens["refresh_token"], scope="users-roles  users-basic").json()
    assert jwt_parts(narrowed["access_token"])[1]["scopes"] == ["users-roles", "users-basic"]
    assert flow.get("/user/me/children", narrowed["access_token"]).status_code == 403
    widened = flow.refresh(narrowed["refresh_token"], scope="users-roles users-children")
    error_of(widened, 400, "invalid_scope", "Check the `users-children` scope")


def test_refresh_widening_and_unknown_scope_are_invalid_scope(flow):
    tokens = flow.tokens(scope="users-basic", client_id=BASIC_CLIENT, secret=BASIC_SECRET)
    refresh = {"client_id": BASIC_CLIENT, "client_secret": BASIC_SECRET}
    body = error_of(flow.refresh(tokens["refresh_token"], scope="users-basic users-roles", **refresh), 400,
                    "invalid_scope", "Check the `users-roles` scope")
    assert body["error_description"] == "The requested scope is invalid, unknown, or malformed"
    error_of(flow.refresh(tokens["refresh_token"], scope="users-roles no-such", **refresh), 400, "invalid_scope",
             "Check the `no-such` scope")
    assert flow.refresh(tokens["refresh_token"], **refresh).status_code == 200, "refused attempts spend nothing"


def test_json_bodies_are_accepted_at_the_token_endpoint(flow):
    """Laravel reads a JSON body as input (axios' default): reference/ekool-oauth2.md, "Measured"."""
    body = {"grant_type": "authorization_code", "client_id": DEMO_CLIENT, "client_secret": DEMO_SECRET,
            "redirect_uri": REDIRECT, "code": flow.code()}
    response = flow.http.post("/oauth/token", json=body)
    assert response.status_code == 200, response.text
    pair = response.json()
    refreshed = flow.http.post("/oauth/token", json={"grant_type": "refresh_token", "client_id": DEMO_CLIENT,
                                                     "client_secret": DEMO_SECRET,
                                                     "refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 200 and refreshed.json()["refresh_token"] != pair["refresh_token"]
    error_of(flow.http.post("/oauth/token", json={"grant_type": "refresh_token", "client_id": DEMO_CLIENT,
                                                  "client_secret": DEMO_SECRET, "refresh_token": "x"}),
             401, "invalid_request", "Cannot decrypt the refresh token")


def test_multipart_bodies_are_accepted_at_the_token_endpoint(flow):
    """PHP parses multipart/form-data into the same input (a browser's `FormData`, `curl -F`); a file part is not
    input (PHP puts it in `$_FILES`), so league sees no `grant_type`."""
    fields = {"grant_type": "authorization_code", "client_id": DEMO_CLIENT, "client_secret": DEMO_SECRET,
              "redirect_uri": REDIRECT, "code": flow.code()}
    response = flow.http.post("/oauth/token", files={name: (None, value) for name, value in fields.items()})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    refresh = {"grant_type": "refresh_token", "client_id": DEMO_CLIENT, "client_secret": DEMO_SECRET,
               "refresh_token": response.json()["refresh_token"]}
    refreshed = flow.http.post("/oauth/token", files={name: (None, value) for name, value in refresh.items()})
    assert refreshed.status_code == 200, refreshed.text
    as_file = flow.http.post("/oauth/token", files={"grant_type": ("grant.txt", b"refresh_token", "text/plain")})
    error_of(as_file, 400, "unsupported_grant_type", "Check that all required parameters have been provided")


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml"])
def test_other_bodies_are_no_input_so_no_grant_type(flow, content_type):
    """Laravel parses forms and JSON only; league then sees no `grant_type` (reference note, "Measured")."""
    response = flow.http.post("/oauth/token", content=b"grant_type=authorization_code",
                              headers={"Content-Type": content_type})
    body = error_of(response, 400, "unsupported_grant_type", "Check that all required parameters have been provided")
    assert body["error"] == "unsupported_grant_type"


def test_laravel_trims_input_and_drops_empty_values(flow):
    """TrimStrings and ConvertEmptyStringsToNull run before league: reference/ekool-oauth2.md, "Measured"."""
    response = flow.exchange(flow.code(), client_secret=f"  {DEMO_SECRET} ", code_verifier="")
    assert response.status_code == 200, response.text
    pair = response.json()
    narrowed = flow.refresh(pair["refresh_token"], scope="")  # an empty scope is no scope: the same scopes
    assert narrowed.status_code == 200, narrowed.text
