"""The admin API's OAuth scenarios on Sunbird (issue 14): a realm user's sessions ended, the realm key rotated
(old refresh tokens verify until retired), and the refresh endpoint made to fail with its invalid_grant."""

from __future__ import annotations

import jwt

REFRESH = "/auth/v1/refresh/token"
REALM_TOKEN = "/auth/realms/sunbird/protocol/openid-connect/token"


def realm_refresh(client, refresh_token: str):
    return client.post(REALM_TOKEN, data={"grant_type": "refresh_token", "client_id": "android",
                                          "refresh_token": refresh_token})


def service_refresh(client, sb, refresh_token: str):
    return client.post(REFRESH, data={"refresh_token": refresh_token},
                       headers=sb.auth(sb.device_token(client)))


def test_revoking_a_realm_users_sessions_refuses_their_realm_refresh(client, sb):
    tokens = sb.realm_tokens(client, offline=False)
    answer = client.post("/__harness/tokens/revoke", json={"user": "learner", "api": "sunbird"})
    assert answer.json() == {"revoked": {"sunbird": {"realm_sessions": 1}}}
    refused = realm_refresh(client, tokens["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    # the refresh endpoint never asks the realm (reference note, "Refresh"): it still answers
    assert service_refresh(client, sb, tokens["refresh_token"]).status_code == 200


def test_a_rotated_realm_key_signs_with_its_kid_and_the_old_one_verifies_until_retired(client, sb):
    old = sb.realm_tokens(client, offline=True)["refresh_token"]
    rotated = client.post("/__harness/keys/rotate", json={"api": "sunbird"}).json()["keys"][0]
    assert (rotated["current"], rotated["verifying"]) == ("accesspub0.2", ["accesspub0.2", "accesspub0"])
    certs = [key["kid"] for key in client.get("/auth/realms/sunbird/protocol/openid-connect/certs").json()["keys"]]
    assert certs == ["accesspub0.2", "accesspub0"]
    new = sb.realm_tokens(client, offline=True)["refresh_token"]
    assert jwt.get_unverified_header(new)["kid"] == "accesspub0.2"
    assert service_refresh(client, sb, old).status_code == 200
    assert service_refresh(client, sb, new).status_code == 200
    assert realm_refresh(client, old).status_code == 200

    client.post("/__harness/keys/retire", json={"api": "sunbird"})
    assert [k["kid"] for k in client.get("/auth/realms/sunbird/protocol/openid-connect/certs").json()["keys"]] == [
        "accesspub0.2"]
    refused = service_refresh(client, sb, old)
    assert refused.status_code == 400 and refused.json()["params"]["err"] == "invalid_grant"
    assert realm_refresh(client, old).json()["error"] == "invalid_grant"
    assert service_refresh(client, sb, new).status_code == 200


def test_the_next_refresh_fails_with_the_services_invalid_grant(client, sb):
    token = sb.realm_tokens(client, offline=True)["refresh_token"]
    client.post("/__harness/refresh-failures", json={"api": "sunbird", "count": 1})
    failed = service_refresh(client, sb, token)
    assert failed.status_code == 400 and failed.json()["params"]["err"] == "invalid_grant"
    assert service_refresh(client, sb, token).status_code == 200  # used up; the token itself is fine
    journal = client.get("/__harness/requests", params={"operation": "refreshAccessToken"}).json()
    assert [entry["status"] for entry in journal[:2]] == [200, 400]
