"""Faults (`/__harness/faults`, issue 14): a status with the API's own body or a given one, a delay, a dropped
connection, for N calls, with a probability, until cleared, `--latency`; on both APIs, with the journal showing
each exchange. Across two workers: tests/test_workers.py."""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from harness.testing.ekool import EkoolTokens
from harness.testing.sunbird import SunbirdTokens, gateway_bearer

FAULTS = "/__harness/faults"
REQUESTS = "/__harness/requests"
REGISTER_V2 = "/api/api-manager/v2/consumer/mobile_device/credential/register"


def arm(client, **fault) -> dict:
    answer = client.post(FAULTS, json=fault)
    assert answer.status_code == 201, answer.text
    return answer.json()


def register(client) -> httpx.Response:
    return client.post(REGISTER_V2, json={"request": {"key": "fault-device"}},
                       headers={"Authorization": f"Bearer {gateway_bearer('mobile_app')}"})


def last_entry(client, operation: str) -> dict:
    return client.get(REQUESTS, params={"operation": operation, "limit": 1}).json()[0]


@pytest.fixture
def bearer(client) -> dict[str, str]:
    return {"Authorization": f"Bearer {EkoolTokens(client).tokens()['access_token']}"}


def test_a_status_fault_answers_the_apis_own_error_body_once(client, bearer):
    armed = arm(client, operation="getMyBasic", status=503, count=1)
    assert armed["fault"] == {"operation": "getMyBasic", "status": 503, "count": 1}
    assert (armed["remaining"], armed["fired"]) == (1, 0)
    faulted = client.get("/user/me/basic", headers=bearer)
    assert faulted.status_code == 503
    assert set(faulted.json()) >= {"error", "error_description", "message"}, "league's error body"
    assert client.get("/user/me/basic", headers=bearer).status_code == 200, "count 1: the next call is normal"
    assert client.get(FAULTS).json() == []
    entry = client.get(REQUESTS, params={"operation": "getMyBasic", "limit": 2}).json()
    assert [e["status"] for e in entry] == [200, 503]


def test_a_status_fault_on_sunbird_answers_its_envelope_and_a_given_body_wins(client):
    arm(client, operation="registerCredentialV2", status=500, count=1)
    faulted = register(client)
    assert faulted.status_code == 500
    arm(client, operation="registerCredentialV2", status=429, body={"message": "API rate limit exceeded"},
        headers=[{"name": "Retry-After", "value": "7"}], count=1)
    limited = register(client)
    assert limited.status_code == 429 and limited.json() == {"message": "API rate limit exceeded"}
    assert limited.headers["retry-after"] == "7"
    assert register(client).status_code == 200
    assert last_entry(client, "registerCredentialV2")["status"] == 200


def test_a_fault_without_count_stays_until_cleared(client, bearer):
    arm(client, path="/user/me/*", method="GET", status=502)
    for _ in range(3):
        assert client.get("/user/me/basic", headers=bearer).status_code == 502
    assert client.get(FAULTS).json()[0]["fired"] == 3
    assert client.delete(FAULTS).json() == {"cleared": 1}
    assert client.get("/user/me/basic", headers=bearer).status_code == 200


def test_a_delay_fault_delays_the_normal_answer(client):
    arm(client, path="/oauth/token", delay_ms=300, count=1)
    started = time.monotonic()
    answer = client.post("/oauth/token", data={"grant_type": "refresh_token"})
    assert time.monotonic() - started >= 0.3
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request", "then the normal answer"
    assert last_entry(client, "issueToken")["status"] == 400


def test_probability_zero_point_five_fires_about_half_the_time(client):
    arm(client, operation="getGeneralData", status=503, probability=0.5)
    statuses = [client.get("/generaldata").status_code for _ in range(200)]
    assert 60 <= statuses.count(503) <= 140 and statuses.count(401) == 200 - statuses.count(503)


@pytest.mark.parametrize(("fault", "detail"), [
    ({"operation": "noSuchOperation", "status": 503}, "operation"),
    ({"status": 503}, "is not valid under any of the given schemas"),
    ({"operation": "getMyBasic", "path": "/x", "status": 503}, "is valid under each of"),
    ({"operation": "getMyBasic"}, "is not valid under any of the given schemas"),
    ({"operation": "getMyBasic", "status": 503, "drop_connection": True}, "should not be valid"),
    ({"operation": "getMyBasic", "status": 99}, "status"),
    ({"operation": "getMyBasic", "status": 503, "count": 0}, "count"),
    ({"operation": "getMyBasic", "status": 503, "stauts": 1}, "stauts"),
    ({"operation": "getMyBasic", "status": 503, "count": 10**12}, "count"),
    ({"operation": "getMyBasic", "status": 503, "headers": [{"name": "a b", "value": "x"}]}, "headers/0/name"),
    ({"operation": "getMyBasic", "status": 503, "headers": [{"name": "X", "value": "line\nbreak"}]}, "value"),
])
def test_a_bad_fault_is_a_400_problem_and_arms_nothing(client, fault, detail):
    answer = client.post(FAULTS, json=fault)
    assert answer.status_code == 400 and detail in answer.json()["detail"], answer.json()
    assert client.get(FAULTS).json() == []


def test_dropped_connections_on_both_apis_and_the_journal_shows_them(live_server):
    with httpx.Client(base_url=live_server.url) as http:
        helper = SunbirdTokens(http)
        refresh, device = helper.realm_refresh_token(), helper.device_token()
        arm(http, operation="refreshAccessToken", drop_connection=True, count=1)
        with pytest.raises(httpx.RemoteProtocolError):
            http.post("/api/auth/v1/refresh/token", data={"refresh_token": refresh},
                      headers={"Authorization": f"Bearer {device}"})
        again = http.post("/api/auth/v1/refresh/token", data={"refresh_token": refresh},
                          headers={"Authorization": f"Bearer {device}"})
        assert again.status_code == 200, "count 1: the next call is answered"
        arm(http, path="/oauth/token", drop_connection=True, count=1)
        with pytest.raises(httpx.RemoteProtocolError):
            http.post("/oauth/token", data={"grant_type": "refresh_token"})
        dropped = [e for e in http.get(REQUESTS).json() if e.get("dropped")]
        assert [(e["operation"], e["status"]) for e in dropped] == [("issueToken", 0), ("refreshAccessToken", 0)]


def test_latency_delays_every_answer(make_app):
    from starlette.testclient import TestClient

    with TestClient(make_app(latency_ms=150), base_url="http://127.0.0.1:8000") as client:
        started = time.monotonic()
        assert client.get("/generaldata").status_code == 401
        assert time.monotonic() - started >= 0.15


def test_faults_apply_on_the_fast_path_too(make_app):
    """`harness serve` answers valid requests to the hot operations on the fast path, which comes after faults."""
    from starlette.testclient import TestClient

    with TestClient(make_app(validate_responses=False), base_url="http://127.0.0.1:8000") as client:
        headers = {"Authorization": f"Bearer {EkoolTokens(client).tokens()['access_token']}"}
        assert client.get("/user/me/basic", headers=headers).status_code == 200
        arm(client, operation="getMyBasic", status=503, count=1)
        assert client.get("/user/me/basic", headers=headers).status_code == 503
        assert client.get("/user/me/basic", headers=headers).status_code == 200
        arm(client, operation="registerCredentialV2", status=500, count=1)
        assert register(client).status_code == 500 and register(client).status_code == 200


def test_a_5xx_fault_is_no_error_in_the_server_log(client, caplog):
    """An injected 503 is a deliberate answer: neither API logs it as an unexpected error."""
    headers = {"Authorization": f"Bearer {SunbirdTokens(client).device_token()}"}
    arm(client, path="/api/auth/v1/refresh/token", status=503, count=1)
    arm(client, operation="getGeneralData", status=500, count=1)
    with caplog.at_level(logging.ERROR):
        assert client.post("/api/auth/v1/refresh/token", data={"refresh_token": "x"}, headers=headers
                           ).status_code == 503
        assert client.get("/generaldata").status_code == 500
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
