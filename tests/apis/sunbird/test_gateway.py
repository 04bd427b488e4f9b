"""The Kong-like gateway: reference/sunbird-api-manager.md, "Gateway: bearer JWT check", under both prefixes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from starlette.testclient import TestClient

from harness.crypto.tokens import b64url_encode, sign_rs256

NO_CREDENTIALS = {"message": "No credentials found for given 'iss'"}
INVALID_ALGORITHM = {"message": "Invalid algorithm"}
INVALID_SIGNATURE = {"message": "Invalid signature"}
ACL = {"message": "You cannot consume this service"}
UNAUTHORIZED = {"message": "Unauthorized"}


def hs256(header: dict, payload: dict, secret: str, standard_base64: bool = False) -> str:
    signing_input = f"{b64url_encode(json.dumps(header).encode())}.{b64url_encode(json.dumps(payload).encode())}"
    digest = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    signature = base64.b64encode(digest).decode() if standard_base64 else b64url_encode(digest)
    return f"{signing_input}.{signature}"


def v1(client: TestClient, prefix: str, headers: dict, consumer: str = "mobile_device", body: object = None):
    return client.post(f"{prefix}/api-manager/v1/consumer/{consumer}/credential/register",
                       json={"request": {"key": "gw-key"}} if body is None else body, headers=headers)


def test_missing_or_undecodable_token_is_401(client, prefix):
    for authorization in (None, "", "Bearer", "Basic bW9iaWxlOnNlY3JldA==", "Bearer not-a-jwt", "Bearer a.b.c",
                          "Bearer e30.W10.x"):
        headers = {} if authorization is None else {"Authorization": authorization}
        response = v1(client, prefix, headers)
        assert response.status_code == 401 and response.json() == UNAUTHORIZED, authorization


def test_unknown_iss_is_403(client, prefix, sb):
    token = hs256({"alg": "HS256"}, {"iss": "nobody_key"}, "whatever")
    response = v1(client, prefix, sb.auth(token))
    assert response.status_code == 403 and response.json() == NO_CREDENTIALS


def test_kid_wins_over_iss(client, prefix, sb):
    """A known `iss` does not help when the header names an unknown `kid`."""
    token = hs256({"alg": "HS256", "kid": "nobody_key"}, {"iss": "mobile_app_key"}, "mobile_app_secret")
    assert v1(client, prefix, sb.auth(token)).json() == NO_CREDENTIALS
    by_kid = hs256({"alg": "HS256", "kid": "mobile_app_key"}, {"iss": "nobody"}, "mobile_app_secret")
    assert v1(client, prefix, sb.auth(by_kid)).status_code == 200


def test_algorithm_must_be_the_credentials(client, prefix, sb):
    payload = b64url_encode(json.dumps({"iss": "mobile_app_key"}).encode())
    for alg in ("none", "HS512", "RS256"):
        header = b64url_encode(json.dumps({"alg": alg}).encode())
        for signature in ("", "c2ln"):
            response = v1(client, prefix, sb.auth(f"{header}.{payload}.{signature}"))
            assert response.status_code == 403 and response.json() == INVALID_ALGORITHM, alg


def test_hs256_token_for_an_rs256_credential_is_invalid_algorithm(client, prefix, sb):
    token = hs256({"alg": "HS256", "kid": "mobile_devicev2_key1"}, {"iss": "x"}, "guess")
    response = client.post(f"{prefix}/auth/v1/refresh/token", data={"refresh_token": "x"}, headers=sb.auth(token))
    assert response.status_code == 403 and response.json() == INVALID_ALGORITHM


def test_bad_signature_is_403(client, prefix, sb):
    token = hs256({"alg": "HS256"}, {"iss": "mobile_app_key"}, "not_the_secret")
    response = v1(client, prefix, sb.auth(token))
    assert response.status_code == 403 and response.json() == INVALID_SIGNATURE


def test_rs256_signed_with_another_key_is_403(client, app, prefix, sb):
    token = sign_rs256({"iss": "d"}, app.ctx.keys, "desktop_devicev2_key1", headers={"kid": "mobile_devicev2_key1"})
    response = client.post(f"{prefix}/auth/v1/refresh/token", data={"refresh_token": "x"}, headers=sb.auth(token))
    assert response.status_code == 403 and response.json() == INVALID_SIGNATURE


@pytest.mark.parametrize("standard_base64", [False, True], ids=["base64url", "standard-base64"])
def test_hs256_signature_in_either_alphabet_is_accepted(client, prefix, sb, standard_base64):
    for n in range(40):  # enough tokens that some signatures contain + or / and padding
        token = hs256({"alg": "HS256", "typ": "JWT"}, {"iss": "mobile_app_key", "iat": n}, "mobile_app_secret",
                      standard_base64)
        assert v1(client, prefix, sb.auth(token)).status_code == 200
        if standard_base64 and any(c in token.rsplit(".", 1)[1] for c in "+/="):
            return
    assert not standard_base64, "no token exercised the standard Base64 alphabet"


def test_no_exp_or_iat_check(client, prefix, sb):
    token = hs256({"alg": "HS256"}, {"iss": "mobile_app_key", "exp": 1, "iat": int(time.time()) + 86400},
                  "mobile_app_secret")
    assert v1(client, prefix, sb.auth(token)).status_code == 200


ROUTES = [
    ("v1", "mobile_app", "mobile_admin"), ("v2", "mobile_device", "mobile_app"), ("v1", "mobile_device", "mobile_app"),
    ("v2", "desktop_device", "desktop_app"), ("v1", "desktop_device", "desktop_app"),
    ("v2", "portal_anonymous", "portal"), ("v2", "portal_loggedin", "portal"),
]
ADMINS = ("mobile_admin", "mobile_app", "desktop_app", "portal")


@pytest.mark.parametrize(("version", "consumer", "allowed"), ROUTES)
def test_acl_allows_only_the_routes_group(client, prefix, sb, version, consumer, allowed):
    for admin in ADMINS:
        response = sb.register(client, version, consumer, prefix=prefix, bearer=sb.demo_bearer(admin))
        if admin == allowed:
            assert response.status_code == 200, response.text
        else:
            assert response.status_code == 403 and response.json() == ACL, admin


def test_desktop_app_route_needs_desktop_super_admin(client, prefix, sb):
    for admin in ADMINS:
        response = sb.register(client, "v1", "desktop_app", prefix=prefix, bearer=sb.demo_bearer(admin))
        assert response.status_code == 403 and response.json() == ACL


def test_unlisted_consumer_routes_are_for_the_super_admin_only(client, prefix, sb):
    for admin in ("mobile_app", "desktop_app", "portal"):
        response = sb.register(client, "v1", "mobile_admin", prefix=prefix, bearer=sb.demo_bearer(admin))
        assert response.status_code == 403 and response.json() == ACL
    device = sb.device_token(client, "mobile_device", "v2")
    assert sb.register(client, "v1", "mobile_admin", prefix=prefix, bearer=device).json() == ACL


def test_refresh_needs_a_device_credential(client, prefix, sb):
    for admin in ADMINS:
        response = client.post(f"{prefix}/auth/v1/refresh/token", data={}, headers=sb.auth(sb.demo_bearer(admin)))
        assert response.status_code == 403 and response.json() == ACL
    for consumer in ("mobile_device", "desktop_device"):
        for version in ("v1", "v2"):
            token = sb.device_token(client, consumer, version)
            response = client.post(f"{prefix}/auth/v1/refresh/token", data={}, headers=sb.auth(token))
            assert response.status_code == 400 and response.json()["params"]["err"] == "BAD_REQUEST"


def test_gateway_answers_before_validation(client, prefix):
    response = v1(client, prefix, {}, body={"not": "valid"})
    assert response.status_code == 401 and response.json() == UNAUTHORIZED


def test_body_over_one_megabyte_is_413_before_validation(client, prefix, sb):
    bearer = sb.auth(sb.demo_bearer("mobile_app"))
    url = f"{prefix}/api-manager/v2/consumer/mobile_device/credential/register"
    padding = " " * (1024 * 1024)
    response = client.post(url, content=padding + "{}", headers={**bearer, "Content-Type": "application/json"})
    assert response.status_code == 413 and response.json() == {"message": "Request size limit exceeded"}
    body = json.dumps({"request": {"key": "k"}})
    exactly = body + " " * (1024 * 1024 - len(body))
    response = client.post(url, content=exactly, headers={**bearer, "Content-Type": "application/json"})
    assert response.status_code == 200


def test_413_also_when_the_body_is_streamed_without_length(client, sb):
    def chunks():
        for _ in range(17):
            yield b" " * 65536

    response = client.post("/api/api-manager/v2/consumer/mobile_device/credential/register", content=chunks(),
                           headers={**sb.auth(sb.demo_bearer("mobile_app")), "Content-Type": "application/json"})
    assert response.status_code == 413


def test_rate_limit_is_per_credential(make_app, sb, prefix):
    app = make_app(rate_limit_per_minute=3)
    app.ctx.clock.set_to(1_800_000_000)  # the start of a minute: the calls below share one window
    with TestClient(app, base_url=sb.BASE_URL) as client:
        statuses = [sb.register(client, "v2", "mobile_device", prefix=prefix).status_code for _ in range(4)]
        other = sb.register(client, "v2", "desktop_device", prefix=prefix)
        limited = sb.register(client, "v2", "mobile_device", prefix=prefix)
    assert statuses == [200, 200, 200, 429]
    assert limited.json() == {"message": "API rate limit exceeded"}
    assert other.status_code == 200


def test_rate_limit_off_by_default(client, sb):
    assert {sb.register(client, "v2", "mobile_device").status_code for _ in range(30)} == {200}


def test_unguarded_paths_pass_through(client):
    assert client.get("/api/.well-known/jwks.json").status_code == 200
    assert client.get("/auth/realms/sunbird/protocol/openid-connect/certs").status_code == 200


def test_unknown_sunbird_path_is_kong_404(client, prefix):
    response = client.post(f"{prefix}/api-manager/v3/consumer/x/credential/register")
    assert response.status_code == 404 and response.json() == {"message": "no Route matched with those values"}


def test_the_acl_of_every_guarded_operation_is_in_the_spec():
    from harness.apis.sunbird.gateway import ACL_EXTENSION, operation_groups
    from harness.specs import load_spec, operations

    for method, path, op in operations(load_spec("sunbird")):
        guarded = op.get("security") == [{"bearerAuth": []}]
        assert (ACL_EXTENSION in op) == guarded, f"{method} {path}"
        acl, operation_id = op.get(ACL_EXTENSION), op["operationId"]
        if acl is None:
            assert operation_groups(operation_id, {}) is None
        elif isinstance(acl, list):
            assert operation_groups(operation_id, {}) == frozenset(acl)
        else:
            for value, groups in acl["values"].items():
                assert operation_groups(operation_id, {acl["parameter"]: value}) == frozenset(groups)
            assert operation_groups(operation_id, {acl["parameter"]: "nobody"}) == frozenset(acl["otherwise"])


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_a_method_the_spec_does_not_list_is_405_before_the_gateway(client, prefix, method):
    """The gateway guards operations: an unlisted method routes to none and gets the service's 405."""
    response = client.request(method, f"{prefix}/api-manager/v1/consumer/mobile_device/credential/register")
    assert response.status_code == 405 and response.headers["allow"] == "POST"
