"""Register v1/v2 and the envelope: reference/sunbird-api-manager.md, "Register" and "Envelope"."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from harness.authtoken import decode
from harness.crypto.tokens import split

EMPTY = {"key": "", "secret": "", "token": ""}
ENVELOPE_ORDER = ["id", "ver", "ets", "params", "result"]
PARAMS_ORDER = ["status", "err", "errmsg", "msgid", "resmsgid"]


VALIDATION_CASES = [
    ({}, "REQUEST IS MANDATORY"),
    ({"request": None}, "REQUEST IS MANDATORY"),
    ({"request": "key"}, "REQUEST IS MANDATORY"),
    ([], "REQUEST IS MANDATORY"),
    ({"request": {}}, "KEY IS MANDATORY"),
    ({"request": {"key": None}}, "KEY IS MANDATORY"),
    ({"request": {"key": ""}}, "KEY IS MANDATORY"),
    ({"request": {"key": 42}}, "KEY IS MANDATORY"),
    ({"request": {"key": "a b"}}, "KEY MUST NOT HAVE SPACE"),
    ({"request": {"key": "tab\there"}}, "KEY MUST NOT HAVE SPACE"),
    ({"request": {"key": " "}}, "KEY MUST NOT HAVE SPACE"),
    ({"request": {"key": "3c6fdb62-1dcd-49b1-a404-bcd7e2e5a0d1"}}, "KEY MUST NOT BE A UUID"),
]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_validation_messages(client, prefix, sb, version):
    for body, errmsg in VALIDATION_CASES:
        response = sb.register(client, version, "mobile_device", prefix=prefix, body=body)
        assert response.status_code == 400, body
        data = response.json()
        assert data["params"]["err"] == "BAD_REQUEST" and data["params"]["errmsg"] == errmsg, body
        assert data["params"]["status"] == "failed" and data["result"] == EMPTY


def test_uppercase_uuid_is_a_valid_key(client, sb):
    key = str(uuid.uuid4()).upper()
    assert sb.register(client, "v1", "mobile_device", key=key).status_code == 200


def test_validation_error_echoes_msgid(client, sb):
    response = sb.register(client, "v1", "mobile_device", body={"params": {"msgid": "m-7"}, "request": {"key": ""}})
    assert response.json()["params"]["msgid"] == "m-7"


def test_empty_or_malformed_json_is_400(client, prefix, sb):
    for raw in (b"", b"{not json", b"\xff\xfe", b"null"):
        response = client.post(f"{prefix}/api-manager/v1/consumer/mobile_device/credential/register", content=raw,
                               headers={**sb.auth(sb.demo_bearer("mobile_app")), "Content-Type": "application/json"})
        assert response.status_code == 400, raw
        assert response.json()["params"]["err"] == "BAD_REQUEST"


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_non_json_is_415(client, prefix, sb, version):
    for media in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        response = client.post(f"{prefix}/api-manager/{version}/consumer/mobile_device/credential/register",
                               content=b"request=x",
                               headers={**sb.auth(sb.demo_bearer("mobile_app")), "Content-Type": media})
        assert response.status_code == 415, media
        assert response.json()["error"] == "Unsupported Media Type"


def test_v1_same_key_same_secret_and_hs256_token(client, prefix, sb):
    first = sb.register(client, "v1", "mobile_device", key="tablet-7", prefix=prefix).json()["result"]
    again = sb.register(client, "v1", "mobile_device", key="tablet-7", prefix=prefix).json()["result"]
    assert first["key"] == again["key"] == "tablet-7"
    assert first["secret"] == again["secret"] and len(first["secret"]) == 32 and first["secret"].isalnum()
    header, payload, _ = split(again["token"])
    assert header == {"alg": "HS256"}
    assert list(payload) == ["iss", "iat"] and payload["iss"] == "tablet-7"
    assert abs(payload["iat"] - time.time()) < 5
    assert jwt.decode(again["token"], again["secret"], algorithms=["HS256"]) == payload


def test_v1_other_key_other_secret(client, sb):
    one = sb.register(client, "v1", "mobile_device", key="k-one").json()["result"]["secret"]
    two = sb.register(client, "v1", "mobile_device", key="k-two").json()["result"]["secret"]
    assert one != two


def test_v1_credential_is_stored(client, app, sb):
    result = sb.register(client, "v1", "desktop_device", key="pc-1").json()["result"]
    row = app.ctx.store.one("SELECT consumer, algorithm, secret FROM sunbird_credentials WHERE key = 'pc-1'")
    assert dict(row) == {"consumer": "desktop_device", "algorithm": "HS256", "secret": result["secret"]}


def test_v1_unknown_consumer_is_create_credential_error(client, prefix, sb):
    response = sb.register(client, "v1", "no_such_consumer", prefix=prefix)
    assert response.status_code == 400
    params = response.json()["params"]
    assert params["err"] == "CREATE_CREDENTIAL_ERROR"
    assert params["errmsg"] == "ERROR WHEN CREATING CREDENTIAL FOR CONSUMER."


def test_v1_key_of_another_consumer_is_refused(client, sb):
    assert sb.register(client, "v1", "mobile_device", key="shared").status_code == 200
    response = sb.register(client, "v1", "desktop_device", key="shared")
    assert response.status_code == 400 and response.json()["params"]["err"] == "CREATE_CREDENTIAL_ERROR"
    assert sb.register(client, "v1", "mobile_device", key="mobile_devicev2_key1").status_code == 400


def test_v2_rs256_token_verifies_with_the_published_key(client, prefix, sb):
    jwks = {k["kid"]: k for k in client.get(f"{prefix}/.well-known/jwks.json").json()["keys"]}
    for consumer in ("mobile_device", "desktop_device", "portal_anonymous", "portal_loggedin"):
        response = sb.register(client, "v2", consumer, key="dev-9", prefix=prefix)
        assert response.status_code == 200
        result = response.json()["result"]
        assert result["key"] == "dev-9" and result["secret"] == ""
        header = decode(result["token"])["header"]
        assert list(header) == ["alg", "kid"] and header["alg"] == "RS256"
        assert header["kid"].startswith(f"{consumer}v2_key")
        public = jwt.PyJWK(jwks[header["kid"]]).key
        assert jwt.decode(result["token"], public, algorithms=["RS256"]) == {"iss": "dev-9", "iat": pytest.approx(
            time.time(), abs=5)}


def test_v2_picks_among_several_keys_and_stores_nothing(client, app, sb):
    before = app.ctx.store.one("SELECT COUNT(*) AS n FROM sunbird_credentials")["n"]
    kids = {decode(sb.register(client, "v2", "mobile_device").json()["result"]["token"])["header"]["kid"]
            for _ in range(30)}
    assert len(kids) > 1 and kids <= {"mobile_devicev2_key1", "mobile_devicev2_key2", "mobile_devicev2_key3"}
    assert app.ctx.store.one("SELECT COUNT(*) AS n FROM sunbird_credentials")["n"] == before


def test_v2_access_consumer(client, sb):
    token = sb.register(client, "v2", "access").json()["result"]["token"]
    assert decode(token)["header"]["kid"].startswith("accessv2_key")


@pytest.mark.parametrize("consumer", ["mobile_app", "no_such_consumer"])
def test_v2_other_consumer_is_internal_error(client, prefix, sb, consumer):
    response = sb.register(client, "v2", consumer, prefix=prefix)
    assert response.status_code == 500
    data = response.json()
    assert data["params"]["err"] == "INTERNAL_ERROR"
    assert data["params"]["errmsg"] == "UNABLE TO REGISTER CREDENTIAL DUE TO INTERNAL ERROR"
    assert data["result"] == EMPTY


def test_get_api_token_is_v2_for_desktop_device(client, prefix, sb):
    response = client.post(f"{prefix}/api-manager/v2/consumer/desktop_device/credential/register",
                           json={"request": {"key": "desk"}}, headers=sb.auth(sb.demo_bearer("desktop_app")))
    assert response.status_code == 200
    assert decode(response.json()["result"]["token"])["header"]["kid"].startswith("desktop_devicev2_key")


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_envelope_order_ets_resmsgid_and_msgid(client, sb, version):
    body = {"id": "x", "ver": "9", "ts": "2020-12-02T13:02:16Z", "params": {"msgid": "abc-1"}, "request": {"key": "e"}}
    first = sb.register(client, version, "mobile_device", body=body).json()
    second = sb.register(client, version, "mobile_device", body={"request": {"key": "e"}}).json()
    assert list(first) == ENVELOPE_ORDER and list(first["params"]) == PARAMS_ORDER
    assert list(first["result"]) == ["key", "secret", "token"]
    assert first["id"] == "ekstep.api.am.adminutil.consumer.create" and first["ver"] == "1.0"
    assert abs(first["ets"] - time.time() * 1000) < 5000
    assert first["params"]["msgid"] == "abc-1" and second["params"]["msgid"] == ""
    assert first["params"] | {"msgid": None, "resmsgid": None} == {
        "status": "successful", "err": None, "errmsg": None, "msgid": None, "resmsgid": None}
    assert uuid.UUID(first["params"]["resmsgid"]).version == 4
    assert first["params"]["resmsgid"] != second["params"]["resmsgid"]


def test_wrong_method_is_405_with_allow(client, prefix, sb):
    response = client.get(f"{prefix}/api-manager/v1/consumer/mobile_device/credential/register",
                          headers=sb.auth(sb.demo_bearer("mobile_app")))
    assert response.status_code == 405 and response.headers["allow"] == "POST"


def test_reset_restores_demo_data(client, app, sb):
    sb.register(client, "v1", "mobile_device", key="gone-after-reset")
    app.ctx.store.execute("DELETE FROM sunbird_credentials WHERE key = 'mobile_app_key'")
    assert sb.register(client, "v2", "mobile_device").status_code == 403
    assert client.post("/__harness/reset").status_code == 200
    assert app.ctx.store.one("SELECT 1 FROM sunbird_credentials WHERE key = 'gone-after-reset'") is None
    assert sb.register(client, "v2", "mobile_device").status_code == 200


def test_banner_lists_demo_credentials(app):
    from harness.banner import banner_lines

    text = "\n".join(banner_lines(app))
    for key in ("mobile_admin_key", "mobile_app_secret", "desktop_app_key", "portal_secret", "learner"):
        assert key in text
