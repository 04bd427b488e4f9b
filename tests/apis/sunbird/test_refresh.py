"""Refresh API (reference/sunbird-api-manager.md, "Refresh") and the realm stand-in that feeds it."""

from __future__ import annotations

import json
import time

import jwt
import pytest

from harness.authtoken import decode
from harness.crypto.tokens import b64url_encode, sign_rs256

INVALID_RESULT = {"access_token": None, "expires_in": 0, "refresh_expires_in": 0, "refresh_token": None}
DAY = 24 * 3600


def refresh(client, sb, token, prefix="/api", device=None):
    bearer = device or sb.device_token(client)
    return client.post(f"{prefix}/auth/v1/refresh/token", data={"refresh_token": token}, headers=sb.auth(bearer))


def assert_invalid_grant(response):
    assert response.status_code == 400
    body = response.json()
    assert body["id"] == "api.refresh.token" and "msgid" not in body["params"]
    assert body["params"]["err"] == body["params"]["errmsg"] == "invalid_grant"
    assert body["result"] == INVALID_RESULT


def test_offline_refresh_from_the_realm(client, prefix, sb):
    tokens = sb.realm_tokens(client, offline=True)
    before = int(time.time())
    response = refresh(client, sb, tokens["refresh_token"], prefix)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["id", "ver", "ts", "params", "result"] and body["id"] == "api.refresh.token"
    assert list(body["params"]) == ["resmsgid", "status", "err", "errmsg"]
    assert body["params"]["status"] == "successful" and body["params"]["err"] is None
    result = body["result"]
    assert result["refresh_token"] == tokens["refresh_token"]
    assert result["refresh_expires_in"] == 0
    assert 12 * 3600 - 5 <= result["expires_in"] <= 12 * 3600
    access = decode(result["access_token"])
    assert access["header"] == {"alg": "RS256", "kid": "access0", "typ": "JWT"}
    claims = access["payload"]
    realm_claims = decode(tokens["refresh_token"])["payload"]
    assert claims["typ"] == "Bearer" and claims["roles"] == [{"role": "PUBLIC", "scope": []}]
    assert (claims["aud"], claims["sub"], claims["iss"]) == (realm_claims["aud"], realm_claims["sub"], sb.REALM_URL)
    assert claims["exp"] - claims["iat"] == result["expires_in"] and claims["iat"] >= before
    jwks = {k["kid"]: k for k in client.get("/.well-known/jwks.json").json()["keys"]}
    jwt.decode(result["access_token"], jwt.PyJWK(jwks["access0"]).key, algorithms=["RS256"], audience="android")


def test_refresh_token_bounds_the_access_token(client, app, sb):
    """`exp = min(now + 12 h, end)`: a Refresh token ending in 10 minutes caps the access token."""
    end = int(time.time()) + 600
    response = refresh(client, sb, sb.realm_token(app, "Refresh", exp=end))
    result = response.json()["result"]
    assert decode(result["access_token"])["payload"]["exp"] == end
    assert 590 <= result["expires_in"] <= 600 and 590 <= result["refresh_expires_in"] <= 600


def test_old_offline_token_is_bounded_by_its_30_days(client, app, sb):
    iat = int(time.time()) - 30 * DAY + 3600
    result = refresh(client, sb, sb.realm_token(app, iat=iat)).json()["result"]
    assert decode(result["access_token"])["payload"]["exp"] == iat + 30 * DAY


def test_realm_refresh_token_without_offline_scope(client, sb):
    tokens = sb.realm_tokens(client, offline=False)
    assert decode(tokens["refresh_token"])["payload"]["typ"] == "Refresh"
    result = refresh(client, sb, tokens["refresh_token"]).json()["result"]
    assert 1700 < result["refresh_expires_in"] <= 1800 and result["expires_in"] == result["refresh_expires_in"]


def test_hs256_refresh_token_with_the_realm_secret(client, app, sb):
    now = int(time.time())
    claims = {"iss": sb.REALM_URL, "typ": "Refresh", "iat": now, "exp": now + 600, "sub": "s"}
    secret = app.ctx.store.secret("sunbird-realm-hs256")
    good = jwt.encode(claims, secret, algorithm="HS256")
    assert refresh(client, sb, good).status_code == 200
    assert_invalid_grant(refresh(client, sb, jwt.encode(claims, "x" * 40, algorithm="HS256")))


def _unsigned(header: dict, payload: dict) -> str:
    return f"{b64url_encode(json.dumps(header).encode())}.{b64url_encode(json.dumps(payload).encode())}.c2ln"


CASES = {
    "two parts": lambda app, sb: "abc.def",
    "header typ not JWT": lambda app, sb: sb.realm_token(app, headers={"kid": "accesspub0", "typ": "Bearer"}),
    "no header typ": lambda app, sb: sb.realm_token(app, headers={"kid": "accesspub0", "typ": None}),
    "RS256 with another kid": lambda app, sb: sb.realm_token(app, headers={"kid": "access0", "typ": "JWT"}),
    "alg none": lambda app, sb: _unsigned({"alg": "none", "typ": "JWT"}, {"iss": sb.REALM_URL, "typ": "Offline"}),
    "another issuer": lambda app, sb: sb.realm_token(app, iss="https://example.org/auth/realms/sunbird"),
    "typ Bearer": lambda app, sb: sb.realm_token(app, typ="Bearer"),
    "bad signature": lambda app, sb: sb.realm_token(app).rsplit(".", 1)[0] + ".c2lnbmF0dXJl",
    "offline past 30 days": lambda app, sb: sb.realm_token(app, iat=int(time.time()) - 30 * DAY - 5),
    "refresh past exp": lambda app, sb: sb.realm_token(app, "Refresh", exp=int(time.time()) - 1),
    "iat in the future": lambda app, sb: sb.realm_token(app, iat=int(time.time()) + 600),
    "no iat": lambda app, sb: sb.realm_token(app, iat=None),
    "signed by a device key": lambda app, sb: sign_rs256(
        {"iss": sb.REALM_URL, "typ": "Offline", "iat": int(time.time())}, app.ctx.keys, "mobile_devicev2_key1",
        headers={"kid": "accesspub0", "typ": "JWT"}),
}


def test_every_failed_check_is_invalid_grant(client, app, prefix, sb):
    device = sb.device_token(client)
    for case, make in CASES.items():
        response = refresh(client, sb, make(app, sb), prefix, device=device)
        assert response.status_code == 400, case
        assert_invalid_grant(response)


def test_aud_is_not_checked(client, app, sb):
    assert refresh(client, sb, sb.realm_token(app, aud="someone-else")).status_code == 200


def test_missing_refresh_token_is_bad_request(client, prefix, sb):
    device = sb.auth(sb.device_token(client))
    for form in ({}, {"refresh_token": ""}, {"other": "x"}):
        response = client.post(f"{prefix}/auth/v1/refresh/token", data=form, headers=device)
        assert response.status_code == 400, form
        body = response.json()
        assert body["params"]["err"] == "BAD_REQUEST" and body["params"]["errmsg"] == ""
        assert body["result"] == INVALID_RESULT


def test_json_is_415(client, prefix, sb):
    response = client.post(f"{prefix}/auth/v1/refresh/token", json={"refresh_token": "x"},
                           headers=sb.auth(sb.device_token(client)))
    assert response.status_code == 415


def test_realm_password_grant_is_shaped_like_the_seed(client, prefix, sb):
    tokens = sb.realm_tokens(client, offline=True, prefix=prefix)
    assert tokens["token_type"] == "Bearer" and tokens["refresh_expires_in"] == 0
    refresh_token = decode(tokens["refresh_token"])
    assert refresh_token["header"] == {"alg": "RS256", "kid": "accesspub0", "typ": "JWT"}
    claims = refresh_token["payload"]
    assert claims["typ"] == "Offline" and claims["exp"] == 0 and claims["azp"] == claims["aud"] == "android"
    assert claims["iss"] == sb.REALM_URL and claims["session_state"] == tokens["session_state"]
    assert claims["sub"] == "f:50f967d4-b9db-4528-950c-b9f0332e63ba:a1e64b41-16cd-47f7-989d-a605e740d040"
    assert claims["realm_access"]["roles"] == ["offline_access", "uma_authorization"]
    assert "view-profile" in claims["resource_access"]["account"]["roles"]
    certs = client.get(f"{prefix}/auth/realms/sunbird/protocol/openid-connect/certs").json()
    assert [k["kid"] for k in certs["keys"]] == ["accesspub0"]
    access = jwt.decode(tokens["access_token"], jwt.PyJWK(certs["keys"][0]).key, algorithms=["RS256"],
                        audience="android")
    assert access["typ"] == "Bearer" and access["preferred_username"] == "learner"


@pytest.mark.parametrize(("form", "status", "error"), [
    ({"username": "learner", "password": "wrong"}, 401, "invalid_grant"),
    ({"username": "nobody", "password": "learner"}, 401, "invalid_grant"),
    ({"username": "learner", "password": "learner", "client_id": "web"}, 401, "invalid_client"),
    ({"grant_type": "client_credentials"}, 400, "invalid_request"),
])
def test_realm_password_grant_errors(client, form, status, error):
    data = {"grant_type": "password", "client_id": "android", **form}
    response = client.post("/auth/realms/sunbird/protocol/openid-connect/token", data=data)
    assert response.status_code == status and response.json()["error"] == error


def test_realm_refresh_grant_and_reset_ends_sessions(client, app, sb):
    tokens = sb.realm_tokens(client, offline=True)
    url = "/auth/realms/sunbird/protocol/openid-connect/token"
    form = {"grant_type": "refresh_token", "client_id": "android", "refresh_token": tokens["refresh_token"]}
    again = client.post(url, data=form)
    assert again.status_code == 200 and again.json()["session_state"] == tokens["session_state"]
    assert client.post(url, data={**form, "refresh_token": "x.y.z"}).json()["error"] == "invalid_grant"
    assert client.post(url, data={**form, "refresh_token": ""}).json()["error"] == "invalid_request"
    client.post("/__harness/reset")
    assert client.post(url, data=form).json() == {
        "error": "invalid_grant", "error_description": "Invalid refresh token"}


def test_openid_configuration(client, prefix, sb):
    config = client.get(f"{prefix}/auth/realms/sunbird/.well-known/openid-configuration").json()
    assert config["issuer"] == sb.REALM_URL
    assert config["token_endpoint"] == f"{sb.REALM_URL}/protocol/openid-connect/token"
    assert client.get(config["jwks_uri"].removeprefix(sb.BASE_URL)).status_code == 200
