"""The admin API's OAuth scenarios on eKool (issue 14): every token of a user or client revoked, the signing key
rotated (old tokens verify until retired) and the next refresh made to fail with invalid_grant."""

from __future__ import annotations

import jwt
import pytest
from starlette.testclient import TestClient

from .conftest import BASIC_CLIENT, BASIC_SECRET, Flow, jwt_parts

REVOKED = "Access token has been revoked"
NOT_VERIFIED = "Access token could not be verified"


@pytest.fixture
def juhan(app):
    """A second browser (the first one's session is mari's)."""
    with TestClient(app, base_url="http://127.0.0.1:8000") as other:
        yield Flow(other)


def hint(answer) -> str:
    return answer.json().get("hint", "")


def test_revoking_a_users_tokens_refuses_their_access_refresh_and_codes_only(flow: Flow, client, juhan):
    mari, juhans = flow.tokens("mari"), juhan.tokens("juhan")
    unused_code = flow.code("mari")
    answer = client.post("/__harness/tokens/revoke", json={"user": "mari"})
    assert answer.status_code == 200
    assert answer.json()["revoked"]["ekool"] == {"access_tokens": 1, "refresh_tokens": 1, "codes": 1}
    refused = flow.get("/user/me/basic", mari["access_token"])
    assert refused.status_code == 401 and hint(refused) == REVOKED
    refresh = flow.refresh(mari["refresh_token"])
    assert refresh.status_code == 401 and refresh.json()["error"] == "invalid_request"
    assert hint(refresh) == "Token has been revoked"
    assert hint(flow.exchange(unused_code)) == "Authorization code has been revoked"
    assert flow.get("/user/me/basic", juhans["access_token"]).status_code == 200
    assert flow.refresh(juhans["refresh_token"]).status_code == 200
    # Passport skips consent only for a user holding a valid token: mari is asked again
    assert 'value="approve"' in flow.consent_page(prompt=None).text


def test_revoking_a_clients_tokens_leaves_other_clients_alone(flow: Flow, client):
    basic = flow.tokens("mari", scope="users-basic", client_id=BASIC_CLIENT, secret=BASIC_SECRET)
    demo = flow.tokens("mari")
    answer = client.post("/__harness/tokens/revoke", json={"client": BASIC_CLIENT, "api": "ekool"})
    assert list(answer.json()["revoked"]) == ["ekool"]
    assert answer.json()["revoked"]["ekool"]["access_tokens"] == 1
    assert hint(flow.get("/user/me/basic", basic["access_token"])) == REVOKED
    assert flow.get("/user/me/basic", demo["access_token"]).status_code == 200


def public_key(client, kid: str):
    jwk = next(key for key in client.get("/.well-known/jwks.json").json()["keys"] if key["kid"] == kid)
    return jwt.PyJWK(jwk).key


def test_a_rotated_key_signs_new_tokens_and_the_old_one_verifies_until_retired(flow: Flow, client, juhan):
    old = flow.tokens("mari")["access_token"]
    rotated = client.post("/__harness/keys/rotate", json={"api": "ekool"}).json()["keys"]
    assert rotated == [{"api": "ekool", "name": "ekool-access", "current": "ekool-access.2",
                        "verifying": ["ekool-access.2", "ekool-access"], "retired": []}]
    kids = [key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]]
    assert "ekool-access" in kids and "ekool-access.2" in kids
    new = juhan.tokens("juhan")["access_token"]
    assert "kid" not in jwt_parts(new)[0]  # league's header names no key
    jwt.decode(new, public_key(client, "ekool-access.2"), algorithms=["RS256"], options={"verify_aud": False})
    jwt.decode(old, public_key(client, "ekool-access"), algorithms=["RS256"], options={"verify_aud": False})
    assert flow.get("/generaldata", old).status_code == 200
    assert flow.get("/generaldata", new).status_code == 200

    retired = client.post("/__harness/keys/retire", json={"api": "ekool"}).json()["keys"][0]
    assert retired["retired"] == ["ekool-access"] and retired["verifying"] == ["ekool-access.2"]
    assert "ekool-access" not in [key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]]
    refused = flow.get("/generaldata", old)
    assert refused.status_code == 401 and hint(refused) == NOT_VERIFIED
    assert flow.get("/generaldata", new).status_code == 200


def test_the_next_refresh_fails_with_invalid_grant_and_codes_are_not_affected(flow: Flow, client, juhan):
    pair = flow.tokens("mari")  # a code exchange after arming would not use the failure up either
    armed = client.post("/__harness/refresh-failures", json={"api": "ekool"})
    assert armed.status_code == 201 and armed.json() == {"armed": {"ekool": 1}}
    other = juhan.tokens("juhan")
    failed = flow.refresh(pair["refresh_token"])
    assert failed.status_code == 400
    assert failed.json() == {"error": "invalid_grant", "error_description": "The refresh token is invalid.",
                             "hint": "Token has been revoked", "message": "The refresh token is invalid."}
    retry = flow.refresh(pair["refresh_token"])  # the refused pair is done with
    assert retry.status_code == 401 and hint(retry) == "Token has been revoked"
    assert hint(flow.get("/generaldata", pair["access_token"])) == REVOKED
    assert flow.refresh(other["refresh_token"]).status_code == 200  # used up
    assert client.get("/__harness/refresh-failures").json() == {"armed": {}}
    journal = client.get("/__harness/requests", params={"operation": "issueToken"}).json()
    statuses = [entry["status"] for entry in journal]
    assert statuses[:3] == [200, 401, 400]
    assert journal[2]["response"]["body"]["error"] == "invalid_grant"


def test_refresh_failures_add_up_and_a_reset_clears_them(client):
    client.post("/__harness/refresh-failures", json={"api": "ekool", "count": 2})
    assert client.post("/__harness/refresh-failures", json={"count": 3}).json()["armed"] == {"ekool": 5,
                                                                                             "sunbird": 3}
    client.post("/__harness/reset")
    assert client.get("/__harness/refresh-failures").json() == {"armed": {}}
