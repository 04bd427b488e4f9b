"""Mixed real flows against a live server for a bounded time, then a consistency check of the state.

Each virtual user is a thread with its own HTTP client that loops through the flows a real app goes
through: Sunbird v1 registration (keys drawn from a small shared pool, so users race on the same key),
v2 registration, realm login + gateway refresh, the eKool code flow, every resource endpoint, and eKool
refresh-token rotation. Afterwards every eKool refresh token handed out must be valid exactly once (the
rotated ones refused, the last ones accepted once and then refused), every v1 key must have kept one
secret, and no request may have hit a connection error or a 5xx.

    python -m bench.load --seconds 60 --users 50            # starts `harness serve --workers 2`
    python -m bench.load --url http://127.0.0.1:8000 ...    # a server you started with --auto-login mari
    python -m bench.load --store postgresql --instances 2 --workers 1   # two instances on one PostgreSQL,
                                                                       # each request to the next instance

Loopback only: the script refuses any other host.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.common import harness_serve, percentile
from harness.conformance.config import ConformConfig
from harness.testing.balancer import RoundRobin
from harness.testing.live import free_port
from harness.testing.postgres import ThrowawayPostgres
from harness.testing.tokens import TokenHelper

AUTO_LOGIN_USER = "mari"
EKOOL_DEMO_CLIENT = (ConformConfig().ekool.client_id, ConformConfig().ekool.client_secret)
REFRESH_PATH = "/api/auth/v1/refresh/token"
EKOOL_RESOURCES = ("/generaldata", "/user/me/basic", "/user/me/roles", "/user/me/schools", "/user/me/children")
SAMPLE_LIMIT = 20


@dataclass(frozen=True)
class Target:
    """Where the load goes: one base URL, or several instances of one deployment taken in turn per request
    (`harness.testing.balancer.RoundRobin`, a load balancer without sticky sessions)."""

    base_url: str
    instances: tuple[str, ...] = ()

    def client(self, **options: Any) -> httpx.Client:
        transport = RoundRobin(self.instances) if self.instances else None
        return httpx.Client(base_url=self.base_url, follow_redirects=False, timeout=30.0, transport=transport,
                            **options)


@dataclass
class Tally:
    """Everything the users saw, shared between threads (guarded by one lock)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    connection_errors: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    unexpected_count: int = 0
    flows: Counter[str] = field(default_factory=Counter)
    v1_secrets: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # eKool refresh tokens: issued ones, and those already exchanged (rotated away) during the run.
    issued_refresh: list[str] = field(default_factory=list)
    used_refresh: set[str] = field(default_factory=set)

    def record(self, step: str, status: int, seconds: float) -> None:
        with self.lock:
            self.statuses[(step, status)] += 1
            self.latencies[step].append(seconds)

    def problem(self, text: str) -> None:
        with self.lock:
            self.unexpected_count += 1
            if len(self.unexpected) < SAMPLE_LIMIT:
                self.unexpected.append(text)

    @property
    def server_errors(self) -> int:
        return sum(n for (_, status), n in self.statuses.items() if status >= 500)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


class VirtualUser:
    """One app instance: its own connection pool, device, tokens and refresh-token chain."""

    def __init__(self, target: Target, tally: Tally, key_pool: list[str]) -> None:
        self.tally = tally
        self.key_pool = key_pool
        self.step = "setup"
        self.client = target.client(event_hooks={"request": [self._sent], "response": [self._answered]})
        self.tokens = TokenHelper(self.client)
        self.access_token: str | None = None
        self.refresh_token: str | None = None

    def _sent(self, request: httpx.Request) -> None:
        request.extensions["bench.sent"] = time.perf_counter()

    def _answered(self, response: httpx.Response) -> None:
        sent = response.request.extensions.get("bench.sent", time.perf_counter())
        self.tally.record(self.step, response.status_code, time.perf_counter() - sent)

    def close(self) -> None:
        self.client.close()

    @contextmanager
    def flow(self, name: str) -> Iterator[None]:
        self.step = name
        try:
            yield
        except httpx.TransportError as exc:
            with self.tally.lock:
                self.tally.connection_errors[f"{name}: {type(exc).__name__}"] += 1
        except (RuntimeError, AssertionError, KeyError, ValueError) as exc:
            self.tally.problem(f"{name}: {exc}")
        else:
            with self.tally.lock:
                self.tally.flows[name] += 1

    def expect(self, response: httpx.Response, status: int = 200) -> httpx.Response:
        if response.status_code != status:
            raise AssertionError(f"{response.request.method} {response.request.url.path} answered "
                                 f"{response.status_code} (expected {status}): {response.text[:200]}")
        return response

    # The flows. Each one is what a real client does; anything unexpected is recorded, not raised.

    def sunbird_register_v1(self) -> None:
        key = secrets.choice(self.key_pool)
        result = self.tokens.sunbird_v1_credential("mobile_device", key=key)
        if result["key"] != key or not result["secret"]:
            raise AssertionError(f"v1 register answered {result}")
        with self.tally.lock:
            self.tally.v1_secrets[key].add(result["secret"])

    def sunbird_refresh(self) -> None:
        device_token = self.tokens.sunbird_device_token("mobile_device")
        refresh_token = self.tokens.realm_refresh_token(offline=secrets.randbelow(2) == 0)
        body = self.expect(self.client.post(
            REFRESH_PATH, data={"refresh_token": refresh_token},
            headers={"Authorization": f"Bearer {device_token}"})).json()
        if body["result"]["refresh_token"] != refresh_token or not body["result"]["access_token"]:
            raise AssertionError(f"refresh answered {body}")

    def ekool_code_flow(self) -> None:
        tokens = self.tokens.ekool_tokens(AUTO_LOGIN_USER)
        self._take(tokens, previous=None)

    def ekool_resources(self) -> None:
        if self.access_token is None:
            self.ekool_code_flow()
        for path in EKOOL_RESOURCES:
            self.expect(self.client.get(path, headers={"Authorization": f"Bearer {self.access_token}"}))

    def ekool_rotate(self) -> None:
        if self.refresh_token is None:
            self.ekool_code_flow()
        previous = self.refresh_token
        assert previous is not None
        tokens = self.expect(ekool_refresh(self.client, previous)).json()
        self._take(tokens, previous=previous)

    def _take(self, tokens: dict[str, str], previous: str | None) -> None:
        self.access_token = tokens["access_token"]
        self.refresh_token = tokens["refresh_token"]
        with self.tally.lock:
            self.tally.issued_refresh.append(tokens["refresh_token"])
            if previous is not None:
                self.tally.used_refresh.add(previous)

    def flows(self) -> list[tuple[str, Callable[[], None]]]:
        return [
            ("sunbird.register_v1", self.sunbird_register_v1),
            ("sunbird.register_v2", lambda: self.tokens.sunbird_device_token("desktop_device")),
            ("sunbird.refresh", self.sunbird_refresh),
            ("ekool.code_flow", self.ekool_code_flow),
            ("ekool.resources", self.ekool_resources),
            ("ekool.refresh", self.ekool_rotate),
        ]

    def run_until(self, deadline: float) -> None:
        flows = self.flows()
        offset = secrets.randbelow(len(flows))
        turn = 0
        while time.monotonic() < deadline:
            name, run = flows[(turn + offset) % len(flows)]
            with self.flow(name):
                run()
            turn += 1


def ekool_refresh(client: httpx.Client, refresh_token: str, client_credentials: tuple[str, str] = EKOOL_DEMO_CLIENT
                  ) -> httpx.Response:
    return client.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": refresh_token,
        "client_id": client_credentials[0], "client_secret": client_credentials[1],
    })


@dataclass
class Consistency:
    checked_rotated: int = 0
    checked_current: int = 0
    problems: list[str] = field(default_factory=list)


def check_consistency(target: Target, tally: Tally, parallel: int = 8) -> Consistency:
    """Every issued eKool refresh token is valid exactly once; every v1 key kept one secret."""
    result = Consistency()
    lock = threading.Lock()
    local = threading.local()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = target.client()
            clients.append(local.client)
        return local.client

    def fail(text: str) -> None:
        with lock:
            if len(result.problems) < SAMPLE_LIMIT:
                result.problems.append(text)

    def rotated(token: str) -> None:
        response = ekool_refresh(client(), token)
        if response.status_code != 401 or response.json().get("hint") != "Token has been revoked":
            fail(f"rotated refresh token {token[:16]}… answered {response.status_code} {response.text[:150]}")

    def current(token: str) -> None:
        first = ekool_refresh(client(), token)
        second = ekool_refresh(client(), token)
        if first.status_code != 200 or second.status_code != 401:
            fail(f"unused refresh token {token[:16]}… answered {first.status_code} then {second.status_code}")

    unused = [t for t in tally.issued_refresh if t not in tally.used_refresh]
    clients: list[httpx.Client] = []
    try:
        with ThreadPoolExecutor(parallel) as pool:
            list(pool.map(rotated, tally.used_refresh))
            list(pool.map(current, unused))
    finally:
        for c in clients:
            c.close()
    result.checked_rotated, result.checked_current = len(tally.used_refresh), len(unused)
    if len(set(tally.issued_refresh)) != len(tally.issued_refresh):
        result.problems.append("the same eKool refresh token was issued twice")
    with target.client() as http:
        helper = TokenHelper(http)
        for key, seen in sorted(tally.v1_secrets.items()):
            again = helper.sunbird_v1_credential("mobile_device", key=key)["secret"]
            if seen != {again}:
                result.problems.append(f"v1 key {key} had secrets {sorted(seen)} and now {again}")
    return result


@dataclass
class LoadReport:
    seconds: float
    users: int
    tally: Tally
    consistency: Consistency

    def problems(self) -> list[str]:
        found = [f"{n} connection errors: {what}" for what, n in self.tally.connection_errors.items()]
        if self.tally.server_errors:
            found.append(f"{self.tally.server_errors} responses with 5xx")
        if self.tally.unexpected_count:
            found.append(f"{self.tally.unexpected_count} unexpected answers, e.g. {self.tally.unexpected[:3]}")
        found += self.consistency.problems
        return found

    def table(self) -> str:
        rows = [f"{'step':<22}{'requests':>9}{'p50 ms':>9}{'p99 ms':>9}  statuses"]
        for step in sorted(self.tally.latencies):
            values = sorted(self.tally.latencies[step])
            statuses = ", ".join(f"{status}x{n}" for (s, status), n in sorted(self.tally.statuses.items())
                                 if s == step)
            rows.append(f"{step:<22}{len(values):>9}{percentile(values, 50) * 1000:>9.1f}"
                        f"{percentile(values, 99) * 1000:>9.1f}  {statuses}")
        total = self.tally.requests
        rows.append(f"{total} requests in {self.seconds:.1f} s ({total / self.seconds:.0f}/s) by {self.users} users; "
                    f"flows completed: {dict(sorted(self.tally.flows.items()))}")
        rows.append(f"consistency: {self.consistency.checked_rotated} rotated refresh tokens refused, "
                    f"{self.consistency.checked_current} current ones valid exactly once, "
                    f"{len(self.tally.v1_secrets)} v1 keys with one secret each")
        return "\n".join(rows)


def _require_loopback(base_url: str) -> None:
    if urlsplit(base_url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"load runs talk to loopback only, not {base_url}")


def run_load(base_url: str, seconds: float, users: int = 50, key_pool: int = 16,
             instances: Sequence[str] = ()) -> LoadReport:
    """Drive `users` virtual users for `seconds` (the eKool server must run with `--auto-login mari`), at
    `base_url` or, per request in turn, at each of `instances` (then the consistency check is spread too)."""
    for url in (base_url, *instances):
        _require_loopback(url)
    target = Target(base_url, tuple(instances))
    tally = Tally()
    pool = [f"load-device-{secrets.token_hex(4)}-{n}" for n in range(key_pool)]
    vus = [VirtualUser(target, tally, pool) for _ in range(users)]
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(users) as executor:
            list(executor.map(lambda vu: vu.run_until(started + seconds), vus))
    finally:
        for vu in vus:
            vu.close()
    elapsed = time.monotonic() - started
    return LoadReport(elapsed, users, tally, check_consistency(target, tally))


@contextmanager
def load_target(url: str | None, workers: int, store: str = "sqlite", instances: int = 1) -> Iterator[list[str]]:
    """The given URL, or fresh `harness serve --workers N --auto-login mari` instances: one on a temporary
    state directory (sqlite), or `instances` sharing a throwaway PostgreSQL database (postgresql)."""
    if url:
        yield [url]
        return
    with tempfile.TemporaryDirectory(prefix="harness-load-") as state, ExitStack() as stack:
        ports = [free_port() for _ in range(instances)]
        # the first instance's address is the deployment's, as a load balancer's would be
        extra: tuple[str, ...] = ("--auto-login", AUTO_LOGIN_USER, "--public-url", f"http://127.0.0.1:{ports[0]}")
        if store == "postgresql":
            extra += ("--store", stack.enter_context(ThrowawayPostgres()).new_database())
        elif instances > 1:
            raise ValueError("instances share a store: --instances > 1 needs --store postgresql")
        servers = [stack.enter_context(harness_serve(Path(state) / str(n), workers, *extra, port=port))
                   for n, port in enumerate(ports)]
        yield [server.url for server in servers]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--users", type=int, default=50, help="concurrent virtual users (connections)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--url", help="an already running server (loopback, --auto-login mari)")
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite",
                        help="postgresql: a throwaway cluster (Debian's postgresql) shared by the instances")
    parser.add_argument("--instances", type=int, default=1, help="instances on one store, taken in turn per request")
    args = parser.parse_args(argv)
    with load_target(args.url, args.workers, args.store, args.instances) as urls:
        report = run_load(urls[0], args.seconds, args.users, instances=urls if len(urls) > 1 else ())
    print(f"{os.cpu_count()} cores; {args.instances} instance(s) x {args.workers} workers on {args.store}")
    print(report.table())
    problems = report.problems()
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print("OK" if not problems else f"FAILED: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
