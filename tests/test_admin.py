"""The admin API (`openapi/admin.yaml`, `harness.admin`) and the clock everything time-based follows (issue 14).
The clock across two workers: tests/test_workers.py."""

from __future__ import annotations

import time

import jwt
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis_run import run

from harness.admin import admin_spec
from harness.testing.ekool import EkoolTokens
from harness.testing.sunbird import SunbirdTokens

CLOCK = "/__harness/clock"
EKOOL_ACCESS_TTL = 604800
SUNBIRD_ACCESS_TTL = 12 * 3600


def offset(client) -> float:
    return client.get(CLOCK).json()["offset_seconds"]


def test_the_clock_reads_real_time_until_moved(client):
    answer = client.get(CLOCK)
    assert answer.status_code == 200
    body = answer.json()
    assert body["offset_seconds"] == 0 and abs(body["epoch"] - time.time()) < 2
    assert body["now"].endswith("Z") and body["now"][:4] == time.strftime("%Y", time.gmtime())


@pytest.mark.parametrize(("advance", "seconds"), [
    ("13h", 46800), ("15m", 900), ("90s", 90), ("7d", 604800), ("-1h", -3600), ("45", 45), (600, 600), (1.5, 1.5),
])
def test_advance_takes_durations_and_seconds(client, advance, seconds):
    answer = client.post(CLOCK, json={"advance": advance})
    assert answer.status_code == 200, answer.text
    assert answer.json()["offset_seconds"] == pytest.approx(seconds, abs=0.01)
    assert answer.json()["epoch"] == pytest.approx(time.time() + seconds, abs=2)
    twice = client.post(CLOCK, json={"advance": advance}).json()
    assert twice["offset_seconds"] == pytest.approx(2 * seconds, abs=0.01), "moves add up"


@pytest.mark.parametrize(("instant", "epoch"), [
    ("2027-01-01T00:00:00Z", 1798761600), ("2027-01-01T02:00:00+02:00", 1798761600),
    ("2027-01-01T00:00:00.250000Z", 1798761600.25),
])
def test_set_makes_the_clock_an_instant_and_it_runs_on(client, instant, epoch):
    body = client.post(CLOCK, json={"set": instant}).json()
    assert body["epoch"] == pytest.approx(epoch, abs=1) and body["now"].startswith("2027-01-01T00:00:0")
    time.sleep(0.05)
    assert client.get(CLOCK).json()["epoch"] > body["epoch"]


@pytest.mark.parametrize(("move", "now"), [
    ({"set": "1969-12-31T23:00:00Z"}, "1970-01-01T00:00:00"), ({"advance": "-99999d"}, "1970-01-01T00:00:00"),
    ({"advance": 1e300}, "9999-12-31T23:59:59"),
])
def test_a_move_past_1970_or_9999_stops_there(client, move, now):
    answer = client.post(CLOCK, json=move)
    assert answer.status_code == 200 and answer.json()["now"][:19] == now[:19]  # and it runs on from there


def test_delete_and_reset_return_to_real_time(client):
    client.post(CLOCK, json={"advance": "2d"})
    answer = client.delete(CLOCK)
    assert answer.status_code == 200 and answer.json()["offset_seconds"] == 0
    client.post(CLOCK, json={"advance": "2d"})
    assert client.post("/__harness/reset").json()["status"] == "reset"
    assert offset(client) == 0


@pytest.mark.parametrize(("request_kwargs", "detail"), [
    ({"json": {"advance": "soon"}}, "advance"),
    ({"json": {"advance": True}}, "advance"),
    ({"json": {"advance": "1w"}}, "advance"),
    ({"json": {"set": "tomorrow"}}, "'tomorrow' is not a 'date-time'"),
    ({"json": {"set": "2027-01-01T00:00:00"}}, "is not a 'date-time'"),  # RFC 3339: the offset is required
    ({"content": b'{"advance": Infinity}', "headers": {"content-type": "application/json"}}, "Infinity is not JSON"),
    ({"json": {}}, "should be non-empty"),
    ({"json": {"advance": 1, "set": "2027-01-01T00:00:00Z"}}, "has too many properties"),
    ({"json": {"rewind": 1}}, "rewind"),
    ({"json": ["advance", 1]}, "is not of type 'object'"),
    ({"content": b"{advance: 1}", "headers": {"content-type": "application/json"}}, "is not JSON"),
    ({"content": b"advance=1", "headers": {"content-type": "application/x-www-form-urlencoded"}}, "application/json"),
    ({}, "needs a JSON body"),
])
def test_a_bad_move_is_a_400_problem_and_moves_nothing(client, request_kwargs, detail):
    client.post(CLOCK, json={"advance": 60})
    answer = client.post(CLOCK, **request_kwargs)
    assert answer.status_code == 400 and answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["status"] == 400 and body["title"] == "Bad Request" and detail in body["detail"], body
    assert offset(client) == 60


def test_an_ekool_access_token_is_refused_past_its_exp_and_the_refresh_then_works(client):
    tokens = EkoolTokens(client).tokens(scopes=["users-basic"])
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/user/me/basic", headers=bearer).status_code == 200
    client.post(CLOCK, json={"advance": EKOOL_ACCESS_TTL + 1})
    refused = client.get("/user/me/basic", headers=bearer)
    assert refused.status_code == 401 and refused.json()["hint"] == "Access token could not be verified"  # league
    renewed = client.post("/oauth/token", data={
        "grant_type": "refresh_token", "client_id": "ekooldemoclient00000000000000001",
        "client_secret": "ekooldemosecret0000000000000000000000001", "refresh_token": tokens["refresh_token"]})
    assert renewed.status_code == 200, renewed.text
    access = renewed.json()["access_token"]
    claims = jwt.decode(access, options={"verify_signature": False})
    assert claims["iat"] == pytest.approx(client.get(CLOCK).json()["epoch"], abs=2), "iat follows the clock"
    assert client.get("/user/me/basic", headers={"Authorization": f"Bearer {access}"}).status_code == 200


def test_a_sunbird_refreshed_access_token_expires_12_hours_after_the_moved_clock(client):
    helper = SunbirdTokens(client)
    refresh_token, device = helper.realm_refresh_token(), helper.device_token()
    moved = client.post(CLOCK, json={"advance": "3d"}).json()["epoch"]
    answer = client.post("/api/auth/v1/refresh/token", data={"refresh_token": refresh_token},
                         headers={"Authorization": f"Bearer {device}"})
    assert answer.status_code == 200, answer.text
    claims = jwt.decode(answer.json()["result"]["access_token"], options={"verify_signature": False})
    assert claims["iat"] == pytest.approx(moved, abs=2)
    assert claims["exp"] - claims["iat"] == SUNBIRD_ACCESS_TTL
    assert answer.json()["ts"] == pytest.approx(moved * 1000, abs=2000), "ts follows the clock"


def test_the_admin_api_is_published_and_has_a_swagger_ui(client):
    from openapi_spec_validator import validate

    validate(admin_spec())
    validate(admin_spec(client.app.plugins))
    published = client.get("/__harness/openapi.json", headers={"host": "mock.test:9999"}).json()
    assert published["servers"][0]["url"] == "http://mock.test:9999/__harness"
    assert {op["operationId"] for item in published["paths"].values() for op in item.values()} == {
        "getHealth", "resetState", "getClock", "moveClock", "resetClock", "listRequests", "clearRequests",
        "listFaults", "armFault", "clearFaults", "revokeTokens", "rotateKeys", "retireKeys", "listRefreshFailures",
        "failRefreshes", "clearRefreshFailures"}
    schemas = published["components"]["schemas"]
    for name in ("Revocation", "ApiChoice", "RefreshFailure"):  # the plugins that offer the scenario
        assert schemas[name]["properties"]["api"]["enum"] == ["sunbird", "ekool"]
    ui = client.get("/__harness/ui/")
    assert ui.status_code == 200 and "/__harness/openapi.json" in ui.text


@pytest.mark.parametrize("seed", [20261202, 7, 99])
def test_schemathesis_over_the_admin_spec_finds_no_failure(app, seed):
    """Tests generated from the admin API's own contract: all phases, every check."""
    raw = admin_spec(app.plugins)
    config = SchemathesisConfig.from_dict({"generation": {"max-examples": 30}, "seed": seed,
                                           "phases": {p: {"enabled": True} for p in ("examples", "coverage",
                                                                                      "fuzzing", "stateful")}})
    schema = schemathesis.openapi.from_dict({**raw, "servers": [{"url": "http://127.0.0.1:8000/__harness"}]},
                                            config=config)
    schema.app = app
    campaign = run(schema)
    failures, tested = campaign.failures, campaign.tested
    assert sorted(set(failures)) == []
    assert {"POST /clock", "GET /clock", "DELETE /clock", "GET /health", "POST /reset", "GET /requests",
            "DELETE /requests", "GET /faults", "POST /faults", "DELETE /faults"} <= set(tested)
