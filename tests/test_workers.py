"""`harness serve --workers 2`: both workers share one state, a restart keeps it, reset restores the demo data.

A test must know which worker answered, or "issued on one, used on the other" proves nothing. uvicorn's
workers accept on one shared socket, so each HTTP connection belongs to one worker process: we find it
from /proc (the server-side socket of our connection and the worker holding it) and keep one client per
worker, checking on every exchange that the same worker answered.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.conformance.config import ConformConfig
from harness.store import DB_NAME
from harness.testing.live import ProcessServer, child_pids
from harness.testing.sunbird import gateway_bearer
from harness.testing.tokens import TokenHelper

_DEMO = ConformConfig().ekool
EKOOL_DEMO_CLIENT, EKOOL_REDIRECT_URI = (_DEMO.client_id, _DEMO.client_secret), _DEMO.redirect_uri

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc to tell workers apart")

REGISTER_V1 = "/api/api-manager/v1/consumer/mobile_device/credential/register"
REFRESH = "/api/auth/v1/refresh/token"
_SOCKET = re.compile(r"socket:\[(\d+)\]")


# --- which worker answered ------------------------------------------------------------------------------------


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir() if fd_dir.exists() else ():
        try:
            match = _SOCKET.fullmatch(os.readlink(fd))
        except OSError:
            continue
        if match:
            inodes.add(match.group(1))
    return inodes


def _server_side_inode(server_port: int, client_port: int) -> str:
    """The inode of the accepted socket whose peer is our client port (/proc/net/tcp, loopback IPv4)."""
    local, remote = f"0100007F:{server_port:04X}", f"0100007F:{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[2] == remote:
            return fields[9]
    raise LookupError(f"no server socket for client port {client_port}")


@dataclass
class Workers:
    server: ProcessServer
    _pids: list[int] | None = None

    def pids(self) -> list[int]:
        """The worker processes: children of `harness serve` holding sockets (not the resource tracker)."""
        if self._pids is None:
            assert self.server.process is not None
            self._pids = [pid for pid in child_pids(self.server.process.pid) if _socket_inodes(pid)]
        return self._pids

    def restart(self) -> None:
        """Stop both workers and start `harness serve` again with the same arguments (state dir and port)."""
        self.server.stop()
        self._pids = None
        self.server.start()

    def answered(self, response: httpx.Response) -> int:
        """The pid of the worker that served this response (its connection is still open)."""
        client_port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
        inode = _server_side_inode(self.server.port, client_port)
        owners = [pid for pid in self.pids() if inode in _socket_inodes(pid)]
        assert len(owners) == 1, f"socket {inode} held by {owners}"
        return owners[0]


class Pinned:
    """An HTTP client whose one keep-alive connection is served by a known worker; with `strict`, every answer
    is checked to come from that worker (uvicorn closes a connection idle for 5 s, and a new one may land on
    the other worker)."""

    def __init__(self, workers: Workers, client: httpx.Client, pid: int, strict: bool = True) -> None:
        self.workers, self.client, self.pid = workers, client, pid
        self.tokens = TokenHelper(client)
        if strict:
            client.event_hooks["response"].append(self._same_worker)

    def _same_worker(self, response: httpx.Response) -> None:
        worker = self.workers.answered(response)
        assert worker == self.pid, f"expected worker {self.pid}, {worker} answered {response.request.url}"

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(url, **kwargs)


def pin(workers: Workers, stack: ExitStack, per_worker: int = 1, attempts: int = 400, strict: bool = True
        ) -> dict[int, list[Pinned]]:
    """Open connections until each worker serves `per_worker` of them."""
    pinned: dict[int, list[Pinned]] = {pid: [] for pid in workers.pids()}
    assert len(pinned) == 2, f"expected 2 worker processes, found {sorted(pinned)}"
    for _ in range(attempts):
        if all(len(clients) >= per_worker for clients in pinned.values()):
            return pinned
        client = httpx.Client(base_url=workers.server.url, follow_redirects=False, timeout=30,
                              limits=httpx.Limits(max_connections=1))
        pid = workers.answered(client.get("/__harness/health"))
        if len(pinned[pid]) < per_worker:
            stack.callback(client.close)
            pinned[pid].append(Pinned(workers, client, pid, strict))
        else:
            client.close()
    raise AssertionError(f"could not reach both workers in {attempts} connections: "
                         f"{ {pid: len(c) for pid, c in pinned.items()} }")


@pytest.fixture(scope="module")
def workers(state_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    state = tmp_path_factory.mktemp("two-workers") / "state"
    shutil.copytree(state_template, state)
    with ProcessServer(state, 2, None, "--auto-login", "mari") as server:
        yield Workers(server)


@pytest.fixture
def pair(workers: Workers) -> Iterator[tuple[Pinned, Pinned]]:
    with ExitStack() as stack:
        first, second = (clients[0] for clients in pin(workers, stack).values())
        yield first, second


# --- helpers for the flows ------------------------------------------------------------------------------------


def register_v1(client: Pinned | httpx.Client, key: str) -> httpx.Response:
    return client.post(REGISTER_V1, json={"request": {"key": key}},
                       headers={"Authorization": f"Bearer {gateway_bearer('mobile_app')}"})


def exchange(client: Pinned | httpx.Client, code: str) -> httpx.Response:
    return client.post("/oauth/token", data={
        "grant_type": "authorization_code", "client_id": EKOOL_DEMO_CLIENT[0], "client_secret": EKOOL_DEMO_CLIENT[1],
        "redirect_uri": EKOOL_REDIRECT_URI, "code": code})


def rotate(client: Pinned | httpx.Client, refresh_token: str) -> httpx.Response:
    return client.post("/oauth/token", data={
        "grant_type": "refresh_token", "client_id": EKOOL_DEMO_CLIENT[0], "client_secret": EKOOL_DEMO_CLIENT[1],
        "refresh_token": refresh_token})


def resource(client: Pinned | httpx.Client, access_token: str) -> httpx.Response:
    return client.get("/user/me/basic", headers={"Authorization": f"Bearer {access_token}"})


def sunbird_refresh(client: Pinned | httpx.Client, bearer: str, refresh_token: str) -> httpx.Response:
    return client.post(REFRESH, data={"refresh_token": refresh_token}, headers={"Authorization": f"Bearer {bearer}"})


def hint(response: httpx.Response) -> tuple[int, str | None]:
    return response.status_code, response.json().get("hint")


# --- the tests -----------------------------------------------------------------------------------------------


def test_two_workers_are_two_processes(workers: Workers, pair: tuple[Pinned, Pinned]) -> None:
    first, second = pair
    assert first.pid != second.pid
    assert sorted(workers.pids()) == sorted([first.pid, second.pid])


def test_code_issued_by_one_worker_is_exchanged_at_the_other(pair: tuple[Pinned, Pinned]) -> None:
    issuer, exchanger = pair
    code = issuer.tokens.ekool_code("mari")
    tokens = exchange(exchanger, code)
    assert tokens.status_code == 200, tokens.text
    assert resource(issuer, tokens.json()["access_token"]).status_code == 200
    # Single use holds across workers: the issuing worker now refuses the spent code.
    assert hint(exchange(issuer, code)) == (400, "Authorization code has been revoked")


def test_fifty_concurrent_registrations_of_one_key_get_one_secret(workers: Workers) -> None:
    key = f"race-device-{os.getpid()}-{threading.get_ident()}"
    with ExitStack() as stack:
        pinned = pin(workers, stack, per_worker=25, strict=False)
        clients = [client for group in pinned.values() for client in group]
        start = threading.Barrier(len(clients))

        def register(client: Pinned) -> tuple[httpx.Response, int]:
            start.wait(timeout=30)
            response = register_v1(client, key)
            return response, workers.answered(response)

        with ThreadPoolExecutor(len(clients)) as pool:
            answers = list(pool.map(register, clients))
        responses = [response for response, _ in answers]
        assert [r.status_code for r in responses] == [200] * 50, [r.text[:200] for r in responses if r.is_error]
        assert {pid for _, pid in answers} == set(workers.pids()), "the race must span both workers"
        secrets = {r.json()["result"]["secret"] for r in responses}
        assert len(secrets) == 1, f"one key got {len(secrets)} different secrets"
        assert {r.json()["result"]["key"] for r in responses} == {key}
    # Each worker's gateway accepts the stored credential's token (mobile_device holds refreshTokenCreate).
    token = responses[0].json()["result"]["token"]
    with ExitStack() as stack:
        for (client,) in pin(workers, stack).values():
            realm = client.tokens.realm_refresh_token()
            assert sunbird_refresh(client, token, realm).status_code == 200


def test_refresh_token_rotated_on_one_worker_is_refused_on_the_other(pair: tuple[Pinned, Pinned]) -> None:
    first, second = pair
    tokens = first.tokens.ekool_tokens("mari")
    rotated = rotate(first, tokens["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    assert hint(rotate(second, tokens["refresh_token"])) == (401, "Token has been revoked")
    assert hint(resource(second, tokens["access_token"])) == (401, "Access token has been revoked")
    assert rotate(second, rotated.json()["refresh_token"]).status_code == 200


def _state_after_start(server: ProcessServer) -> dict[str, Any]:
    """Credentials and tokens a client holds, obtained from a running server."""
    with TokenHelper.over_http(server.url) as helper:
        credential = helper.sunbird_v1_credential("mobile_device", key="restart-device")
        return {
            "credential": credential,
            "device_token": helper.sunbird_device_token("mobile_device"),
            "realm_refresh": helper.realm_refresh_token(offline=True),
            "ekool": helper.ekool_tokens("mari"),
            "jwks": helper.client.get("/.well-known/jwks.json").json(),
        }


def test_restart_keeps_credentials_and_refresh_tokens(workers: Workers) -> None:
    before = _state_after_start(workers.server)
    # Same port: realm tokens name their issuer after the host the client called, as Keycloak does.
    workers.restart()
    with httpx.Client(base_url=workers.server.url, timeout=30) as client:
        again = register_v1(client, "restart-device").json()["result"]
        assert again["secret"] == before["credential"]["secret"]
        assert client.get("/.well-known/jwks.json").json() == before["jwks"]
        for bearer in (before["credential"]["token"], before["device_token"]):
            response = sunbird_refresh(client, bearer, before["realm_refresh"])
            assert response.status_code == 200, response.text
        assert resource(client, before["ekool"]["access_token"]).status_code == 200
        assert rotate(client, before["ekool"]["refresh_token"]).status_code == 200
    assert len(workers.pids()) == 2


# Written afresh by every seed on purpose: when a row was written, and salted password hashes.
VOLATILE_COLUMNS = frozenset({"created_at", "password_hash"})


def _dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted, without VOLATILE_COLUMNS. Signing keys (kept by a reset on purpose),
    the seeded-once markers in `meta` and SQLite's own tables are left out."""
    dump = {}
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT IN ('signing_keys', 'meta') AND name NOT LIKE 'sqlite_%'")]
        for table in tables:
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            keep = [i for i, column in enumerate(cursor.description) if column[0] not in VOLATILE_COLUMNS]
            dump[table] = sorted((tuple(row[i] for i in keep) for row in cursor), key=repr)
    return dump


def test_reset_brings_back_exactly_the_demo_data(workers: Workers, pair: tuple[Pinned, Pinned],
                                                 state_template: Path) -> None:
    first, second = pair
    old = register_v1(second, "reset-device").json()["result"]
    realm = second.tokens.realm_refresh_token()
    assert sunbird_refresh(second, old["token"], realm).status_code == 200  # the credential is in use there
    tokens = second.tokens.ekool_tokens("mari")
    assert resource(second, tokens["access_token"]).status_code == 200
    assert _dump(workers.server.state_dir / DB_NAME) != _dump(state_template / DB_NAME)

    reset = first.post("/__harness/reset")
    assert reset.status_code == 200 and reset.json()["status"] == "reset"

    assert _dump(workers.server.state_dir / DB_NAME) == _dump(state_template / DB_NAME)
    # The other worker sees the reset at once: what was issued before is gone, the demo data works.
    assert sunbird_refresh(second, old["token"], realm).json() == {"message": "No credentials found for given 'iss'"}
    assert register_v1(second, "reset-device").json()["result"]["secret"] != old["secret"]
    assert hint(rotate(second, tokens["refresh_token"]))[0] == 401
    assert resource(second, tokens["access_token"]).status_code == 401
    fresh = second.tokens.ekool_tokens("mari")
    assert resource(first, fresh["access_token"]).status_code == 200


def test_a_clock_moved_at_one_worker_moves_at_the_other_and_a_code_expires_there(pair: tuple[Pinned, Pinned]) -> None:
    """The clock lives in the state directory (issue 14): a code lives 10 minutes of it, whichever worker asks."""
    mover, other = pair
    code, spare = other.tokens.ekool_code("mari"), other.tokens.ekool_code("mari")
    try:
        moved = mover.post("/__harness/clock", json={"advance": 599})
        assert moved.status_code == 200 and moved.json()["offset_seconds"] == 599
        assert other.get("/__harness/clock").json()["offset_seconds"] == 599
        assert exchange(other, spare).status_code == 200, "599 s: still valid"
        assert mover.post("/__harness/clock", json={"advance": "2s"}).status_code == 200
        assert hint(exchange(other, code)) == (400, "Authorization code has expired")
    finally:
        mover.client.delete("/__harness/clock")
    assert other.get("/__harness/clock").json()["offset_seconds"] == 0


def test_the_journal_of_one_worker_is_read_at_the_other(pair: tuple[Pinned, Pinned]) -> None:
    writer, reader = pair
    assert writer.get("/user/me/basic?from=worker").status_code == 401
    entries = reader.get("/__harness/requests", params={"operation": "getMyBasic"}).json()
    assert entries and entries[0]["url"] == "/user/me/basic?from=worker" and entries[0]["status"] == 401


def test_a_fault_armed_at_one_worker_fires_once_at_either(pair: tuple[Pinned, Pinned]) -> None:
    first, second = pair
    armed = first.post("/__harness/faults", json={"operation": "getGeneralData", "status": 503, "count": 1})
    assert armed.status_code == 201
    try:
        statuses = [second.get("/generaldata").status_code, first.get("/generaldata").status_code,
                    second.get("/generaldata").status_code]
        assert statuses == [503, 401, 401], "one call in all, at the worker that took it"
        assert first.get("/__harness/faults").json() == []
        entries = second.get("/__harness/requests", params={"operation": "getGeneralData", "limit": 3}).json()
        assert [e["status"] for e in entries] == [401, 401, 503]
    finally:
        first.client.delete("/__harness/faults")


def test_a_refresh_failure_armed_at_one_worker_fails_one_refresh_at_either(pair: tuple[Pinned, Pinned]) -> None:
    first, second = pair
    pairs = [first.tokens.ekool_tokens("mari") for _ in range(2)]
    assert first.post("/__harness/refresh-failures", json={"api": "ekool"}).status_code == 201
    try:
        failed = rotate(second, pairs[0]["refresh_token"])
        assert (failed.status_code, failed.json()["error"]) == (400, "invalid_grant")
        assert hint(rotate(first, pairs[0]["refresh_token"])) == (401, "Token has been revoked")
        assert rotate(first, pairs[1]["refresh_token"]).status_code == 200
        assert second.get("/__harness/refresh-failures").json() == {"armed": {}}
    finally:
        first.client.delete("/__harness/refresh-failures")


def test_a_key_rotated_at_one_worker_signs_and_retires_at_the_other(pair: tuple[Pinned, Pinned]) -> None:
    first, second = pair
    old = first.tokens.ekool_tokens("mari")["access_token"]
    second.get("/.well-known/jwks.json")  # cached there before the rotation
    current = first.post("/__harness/keys/rotate", json={"api": "ekool"}).json()["keys"][0]["current"]
    assert current in [key["kid"] for key in second.get("/.well-known/jwks.json").json()["keys"]]
    new = second.tokens.ekool_tokens("juhan")["access_token"]
    assert resource(first, new).status_code == 200 and resource(second, old).status_code == 200
    first.post("/__harness/keys/retire", json={"api": "ekool"})
    assert hint(resource(second, old)) == (401, "Access token could not be verified")
    assert resource(second, new).status_code == 200
