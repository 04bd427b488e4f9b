"""Several `harness serve` processes on one PostgreSQL store (`--store`), standing in for machines behind a load
balancer: what one instance does, every other sees (issue 16).

Each instance is a separate process with its own port and its own `--state` directory, which stays empty.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import jwt
import psycopg
import pytest

from harness.apis.ekool.demo import starting_data
from harness.plugins import SeedData
from harness.testing.balancer import RoundRobin
from harness.testing.ekool import EkoolTokens, _demo_client
from harness.testing.live import ProcessServer, free_port, wait_healthy
from harness.testing.postgres import ThrowawayPostgres
from harness.testing.sunbird import gateway_bearer

pytestmark = pytest.mark.slow
REGISTER_V1 = "/api/api-manager/v1/consumer/mobile_device/credential/register"
CLIENT = _demo_client()


class Replicas:
    """`count` instances of `harness serve --store URL`, launched at once; stopped by `stop()`."""

    def __init__(self, url: str, root: Path, count: int, *extra: str) -> None:
        self.store_url = url
        ports = [free_port() for _ in range(count)]
        # the first instance's address stands for the load balancer's: every realm token's issuer
        public = ("--public-url", f"http://127.0.0.1:{ports[0]}")
        self.servers = [ProcessServer(root / f"instance-{n}", 1, port, "--store", url, *public, *extra)
                        for n, port in enumerate(ports)]

    def start(self) -> Replicas:
        try:
            for server in self.servers:
                server.launch()
            for server in self.servers:
                assert server.process is not None
                wait_healthy(server.url, timeout=90, process=server.process)
        except BaseException:
            print(self.stop())
            raise
        return self

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]

    def balanced(self) -> httpx.Client:
        """A client whose every request goes to the next instance (no sticky sessions)."""
        return httpx.Client(base_url=self.urls[0], transport=RoundRobin(self.urls), timeout=30)

    def stop(self) -> str:
        return "\n".join(server.stop() for server in self.servers)


@pytest.fixture
def replicas(store_url: str, tmp_path: Path) -> Iterator[Replicas]:
    group = Replicas(store_url, tmp_path, 3).start()
    try:
        yield group
    finally:
        output = group.stop()
        assert "Traceback" not in output, output[-3000:]


def _refresh(url: str, token: str) -> httpx.Response:
    return httpx.post(f"{url}/oauth/token", data={"grant_type": "refresh_token", "refresh_token": token,
                                                  "client_id": CLIENT["id"], "client_secret": CLIENT["secret"]})


def _register(url: str, key: str) -> httpx.Response:
    return httpx.post(url + REGISTER_V1, json={"request": {"key": key}}, timeout=30,
                      headers={"Authorization": f"Bearer {gateway_bearer('mobile_app')}"})


def test_replicas_starting_at_once_on_an_empty_database_create_seed_and_key_it_once(postgres: ThrowawayPostgres,
                                                                                   tmp_path: Path):
    url = postgres.new_database()
    group = Replicas(url, tmp_path, 3).start()
    try:
        jwks = [httpx.get(f"{base}/.well-known/jwks.json").json() for base in group.urls]
        keys = [httpx.get(f"{base}/auth/realms/sunbird/protocol/openid-connect/certs").json() for base in group.urls]
    finally:
        output = group.stop()
    assert "Traceback" not in output, output[-3000:]
    assert jwks[0]["keys"] and jwks[0] == jwks[1] == jwks[2], "one set of keys, whoever generated it"
    assert keys[0] == keys[1] == keys[2]
    with psycopg.connect(url) as conn:
        kids = conn.execute("SELECT count(*), count(DISTINCT kid) FROM harness.signing_keys").fetchone()
        clients = conn.execute("SELECT count(*) FROM harness.ekool_clients").fetchone()[0]
        markers = conn.execute("SELECT name FROM harness.meta WHERE name LIKE 'seeded:%' ORDER BY name").fetchall()
    assert kids[0] == kids[1] >= 3
    assert clients == len(starting_data(SeedData())[0]), "the demo clients, seeded once"
    assert [m[0] for m in markers] == ["seeded:ekool", "seeded:sunbird"]
    assert all(not (tmp_path / f"instance-{n}").exists() or not any((tmp_path / f"instance-{n}").iterdir())
               for n in range(3)), "with --store nothing shared lives under --state"


def test_logging_in_at_one_instance_and_consenting_at_another_gives_a_code_a_third_exchanges_once(
        replicas: Replicas):
    with replicas.balanced() as browser:
        transport = browser._transport
        assert isinstance(transport, RoundRobin)
        code = EkoolTokens(browser).code("mari")
        assert min(transport.sent) >= 1, f"every instance took part of the login: {transport.sent}"
    exchange = {"grant_type": "authorization_code", "client_id": CLIENT["id"], "client_secret": CLIENT["secret"],
                "redirect_uri": CLIENT["redirect_uris"][0], "code": code}
    first = httpx.post(f"{replicas.urls[1]}/oauth/token", data=exchange)
    assert first.status_code == 200, first.text
    basic = httpx.get(f"{replicas.urls[2]}/user/me/basic",
                      headers={"Authorization": f"Bearer {first.json()['access_token']}"})
    assert basic.json()["data"]["id"] == "100001"
    again = httpx.post(f"{replicas.urls[0]}/oauth/token", data=exchange)
    assert again.status_code == 400 and again.json()["hint"] == "Authorization code has been revoked", again.text


def test_fifty_concurrent_registrations_of_one_key_over_the_instances_get_one_secret(replicas: Replicas):
    key = f"replica-device-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(lambda n: _register(replicas.urls[n % 3], key), range(50)))
    assert [a.status_code for a in answers] == [200] * 50, {a.status_code: a.text for a in answers}
    assert len({a.json()["result"]["secret"] for a in answers}) == 1


def test_a_refresh_token_rotated_at_one_instance_is_refused_at_the_others(replicas: Replicas):
    with httpx.Client(base_url=replicas.urls[0]) as client:
        tokens = EkoolTokens(client).tokens("mari")
    rotated = _refresh(replicas.urls[1], tokens["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    for url in (replicas.urls[0], replicas.urls[2], replicas.urls[1]):
        refused = _refresh(url, tokens["refresh_token"])
        assert refused.status_code == 401, refused.text
        assert (refused.json()["error"], refused.json()["hint"]) == ("invalid_request", "Token has been revoked")
    assert _refresh(replicas.urls[2], rotated.json()["refresh_token"]).status_code == 200


def test_a_sunbird_realm_token_from_one_instance_refreshes_at_another_with_a_device_token_from_a_third(
        replicas: Replicas):
    a, b, c = replicas.urls
    realm = httpx.post(f"{a}/auth/realms/sunbird/protocol/openid-connect/token", data={
        "grant_type": "password", "client_id": "android", "username": "learner", "password": "learner"}).json()
    device = httpx.post(c + REGISTER_V1.replace("v1", "v2"), json={"request": {"key": "replica-desktop"}},
                        headers={"Authorization": f"Bearer {gateway_bearer('mobile_app')}"}).json()
    refreshed = httpx.post(f"{b}/api/auth/v1/refresh/token", data={"refresh_token": realm["refresh_token"]},
                           headers={"Authorization": f"Bearer {device['result']['token']}"})
    assert refreshed.status_code == 200, refreshed.text
    claims = jwt.decode(refreshed.json()["result"]["access_token"], options={"verify_signature": False})
    assert claims["iss"] == f"{a}/auth/realms/sunbird", "the issuer is the deployment's one address"


def test_the_clock_faults_refresh_failures_keys_and_journal_of_one_instance_are_every_instances(replicas: Replicas):
    a, b, c = replicas.urls
    with httpx.Client(base_url=a) as client:
        bearer = {"Authorization": f"Bearer {EkoolTokens(client).tokens('mari')['access_token']}"}
    moved = httpx.post(f"{a}/__harness/clock", json={"advance": "2h"}).json()
    for url in (b, c):
        offset = httpx.get(f"{url}/__harness/clock").json()["offset_seconds"]
        assert offset == pytest.approx(moved["offset_seconds"], abs=1), f"{url} reads the clock moved at a"
    assert moved["offset_seconds"] == pytest.approx(7200, abs=1)
    armed = httpx.post(f"{b}/__harness/faults", json={"operation": "getGeneralData", "status": 503, "count": 1})
    assert armed.status_code == 201, armed.text
    assert httpx.get(f"{c}/generaldata", headers=bearer).status_code == 503, "the fault armed at b fires at c"
    assert httpx.get(f"{a}/generaldata", headers=bearer).status_code == 200, "once, whichever instance took the call"
    marker = uuid.uuid4().hex
    httpx.get(f"{c}/generaldata", params={"journal": marker}, headers=bearer)
    for url in (a, b, c):
        journal = httpx.get(f"{url}/__harness/requests", params={"operation": "getGeneralData"}).json()
        assert {"journal": marker} in [entry["query"] for entry in journal], f"{url} sees what c answered"
    failing = httpx.post(f"{a}/__harness/refresh-failures", json={"api": "ekool"})
    assert failing.status_code in (200, 201), failing.text
    with httpx.Client(base_url=b) as client:
        pair = EkoolTokens(client).tokens("mari")
    refused = _refresh(c, pair["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant", "armed at a, fired at c"
    kid = httpx.post(f"{c}/__harness/keys/rotate").json()
    kids = [{key["kid"] for key in httpx.get(f"{url}/.well-known/jwks.json").json()["keys"]} for url in (a, b)]
    assert kids[0] == kids[1] and len(kids[0]) > 1, f"the key rotated at c is published by a and b: {kid}"
    assert httpx.post(f"{b}/__harness/reset").status_code == 200
    for url in (a, c):
        assert httpx.get(f"{url}/__harness/clock").json()["offset_seconds"] == 0, "a reset at b is every instance's"
        assert httpx.get(f"{url}/__harness/faults").json() == []


def test_a_restart_of_every_instance_loses_nothing(store_url: str, tmp_path: Path):
    key = f"restart-device-{uuid.uuid4().hex[:8]}"
    first = Replicas(store_url, tmp_path, 2).start()
    try:
        secret = _register(first.urls[0], key).json()["result"]["secret"]
        with httpx.Client(base_url=first.urls[1]) as client:
            tokens = EkoolTokens(client).tokens("mari")
        httpx.post(f"{first.urls[0]}/__harness/clock", json={"advance": 60})
    finally:
        first.stop()
    second = Replicas(store_url, tmp_path, 2).start()
    try:
        assert _register(second.urls[1], key).json()["result"]["secret"] == secret
        assert httpx.get(f"{second.urls[0]}/user/me/basic",
                         headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code == 200
        assert _refresh(second.urls[0], tokens["refresh_token"]).status_code == 200
        assert httpx.get(f"{second.urls[1]}/__harness/clock").json()["offset_seconds"] == pytest.approx(60, abs=1)
    finally:
        second.stop()


def test_the_gateways_rate_limit_window_is_shared_by_the_instances(store_url: str, tmp_path: Path):
    group = Replicas(store_url, tmp_path, 2, "--rate-limit", "4").start()
    try:
        key = f"limited-device-{uuid.uuid4().hex[:8]}"
        statuses = [_register(group.urls[n % 2], key).status_code for n in range(6)]
    finally:
        group.stop()
    assert statuses == [200, 200, 200, 200, 429, 429], "4 a minute per credential, counted across instances"
