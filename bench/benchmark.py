"""Benchmark: `harness serve` against `prism mock` on the same specs, under the same load, in one run.

    python -m bench.benchmark                        # 10 s per scenario, 50 connections, 2 workers
    python -m bench.benchmark --seconds 30 --json bench-result.json
    python -m bench.benchmark --profile bench-profile # also: where the harness's CPU time goes (py-spy)

Measures req/s, p50 and p99 for `GET /user/me/basic` (valid eKool token), `POST` v1 register, `POST` v2
register (RS256) and refresh (RS256), the ratio to Prism, the bare RSA-2048 signing rate on this machine, and
launch-to-first-200 of both servers. Load comes from wrk (Debian package) when installed, else from a
Python asyncio load generator (which then limits what can be measured). Both servers run with quiet
logging on 127.0.0.1; the harness validates requests (connexion's default), not responses.
Figures are only meaningful on a quiet machine: the load generator shares the cores with the servers.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from bench import profiling
from bench.common import REPO, Driver, Measurement, Request, best_driver, harness_serve, prism_mock
from harness.testing.live import child_pids
from harness.testing.sunbird import gateway_bearer
from harness.testing.tokens import TokenHelper

GOALS = {"ratio_to_prism": 1.5, "p99_ms": 25.0, "rs256_share_of_bare": 0.8, "start_seconds": 0.5}
DEVICE_KEY = "bench-device-0001"


@dataclass(frozen=True)
class Scenario:
    name: str
    api: str
    request: Request
    rs256: bool = False


def scenarios(tokens: dict[str, str]) -> list[Scenario]:
    """The four measured requests, on the spec's own paths (Prism serves them without the /api prefix)."""
    register_body = json.dumps({"request": {"key": DEVICE_KEY}}).encode()
    admin = {"Authorization": f"Bearer {tokens['gateway']}", "Content-Type": "application/json"}
    return [
        Scenario("GET /user/me/basic", "ekool",
                 Request("GET", "/user/me/basic", {"Authorization": f"Bearer {tokens['ekool_access']}"})),
        Scenario("POST v1 register", "sunbird",
                 Request("POST", "/api-manager/v1/consumer/mobile_device/credential/register", admin, register_body)),
        Scenario("POST v2 register (RS256)", "sunbird",
                 Request("POST", "/api-manager/v2/consumer/mobile_device/credential/register", admin, register_body),
                 rs256=True),
        Scenario("POST refresh (RS256)", "sunbird",
                 Request("POST", "/auth/v1/refresh/token",
                         {"Authorization": f"Bearer {tokens['device']}",
                          "Content-Type": "application/x-www-form-urlencoded"},
                         urlencode({"refresh_token": tokens["realm_refresh"]}).encode()),
                 rs256=True),
    ]


def harness_tokens(url: str) -> dict[str, str]:
    """Valid tokens from the harness itself, obtained the way clients get them (login forms included)."""
    with TokenHelper.over_http(url) as helper:
        return {
            "gateway": gateway_bearer("mobile_app"),
            "device": helper.sunbird_device_token("mobile_device"),
            "realm_refresh": helper.realm_refresh_token(offline=True),
            "ekool_access": helper.ekool_tokens("mari")["access_token"],
        }


# --- bare signing rate ------------------------------------------------------------------------------------------


def _sign_for(seconds: float) -> int:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {"iss": DEVICE_KEY, "iat": int(time.time())}
    done, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        jwt.encode(claims, key, algorithm="RS256", headers={"kid": "bench"})
        done += 1
    return done


def bare_signing_rate(processes: int, seconds: float = 2.0) -> float:
    """RS256 (RSA-2048, PyJWT, key loaded once) tokens per second over `processes` parallel processes."""
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        counts = pool.map(_sign_for, [seconds] * processes)
    return sum(counts) / seconds


# --- running the scenarios ---------------------------------------------------------------------------------------


@dataclass
class Row:
    scenario: str
    harness: Measurement | None = None
    prism: Measurement | None = None
    prism_answer: str = ""
    profile: str = ""

    @property
    def ratio(self) -> float | None:
        if self.harness and self.prism and self.prism.rps:
            return self.harness.rps / self.prism.rps
        return None


@dataclass
class Result:
    driver: str
    cores: int
    workers: int
    connections: int
    seconds: float
    no_fast_path: bool = False
    no_journal: bool = False
    bare_rs256_one_core: float = 0.0
    bare_rs256_all_workers: float = 0.0
    harness_start: float = 0.0
    harness_cold_start: float = 0.0
    prism_start: float = 0.0
    rows: list[Row] = field(default_factory=list)


def answer_of(base_url: str, request: Request) -> str:
    response = httpx.request(request.method, base_url + request.path, headers=request.headers,
                             content=request.body or None, timeout=10)
    return f"{response.status_code} {response.text[:90]}"


def measure(driver: Driver, url: str, request: Request, connections: int, seconds: float) -> Measurement:
    driver.run(url, request, connections, min(2.0, seconds))  # warm-up: caches, connections, validators
    return driver.run(url, request, connections, seconds)


def worker_pids(server_pid: int) -> list[int]:
    """The uvicorn workers of a `harness serve` process (not multiprocessing's resource tracker), or itself."""
    children = [pid for pid in child_pids(server_pid)
                if b"resource_tracker" not in _cmdline(pid)]
    return children or [server_pid]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def run(args: argparse.Namespace) -> Result:
    driver = best_driver(args.driver)
    result = Result(driver=driver.name, cores=os.cpu_count() or 1, workers=args.workers,
                    connections=args.connections, seconds=args.seconds, no_fast_path=args.no_fast_path,
                    no_journal=args.no_journal)
    result.bare_rs256_one_core = bare_signing_rate(1)
    result.bare_rs256_all_workers = bare_signing_rate(args.workers)
    rows: dict[str, Row] = {}
    with tempfile.TemporaryDirectory(prefix="harness-bench-") as tmp:
        state = Path(tmp)
        extra = (*(("--no-fast-path",) if args.no_fast_path else ()), *(("--no-journal",) if args.no_journal else ()))
        with harness_serve(state, args.workers, *extra) as cold:  # first start: generates keys, seeds demo data
            result.harness_cold_start = cold.start_seconds
        with harness_serve(state, args.workers, *extra) as server:
            result.harness_start = server.start_seconds
            tokens = harness_tokens(server.url)
            plan = [s for s in scenarios(tokens) if not args.only or any(o in s.name for o in args.only)]
            for scenario in plan:
                row = rows.setdefault(scenario.name, Row(scenario.name))
                if args.profile:
                    driver.run(server.url, scenario.request, args.connections, min(2.0, args.seconds))
                    with profiling.sampling(worker_pids(server.pid), args.profile, _slug(scenario.name),
                                            args.seconds) as outputs:
                        row.harness = driver.run(server.url, scenario.request, args.connections, args.seconds)
                    row.profile = profiling.report(scenario.name, outputs)
                else:
                    row.harness = measure(driver, server.url, scenario.request, args.connections, args.seconds)
        for api in ("sunbird", "ekool"):
            api_plan = [s for s in plan if s.api == api]
            if not api_plan or args.no_prism:
                continue
            with prism_mock(REPO / "openapi" / f"{api}.yaml") as prism:
                result.prism_start = max(result.prism_start, prism.start_seconds)
                for scenario in api_plan:
                    row = rows[scenario.name]
                    row.prism_answer = answer_of(prism.url, scenario.request)
                    row.prism = measure(driver, prism.url, scenario.request, args.connections, args.seconds)
    result.rows = list(rows.values())
    return result


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


# --- the table ---------------------------------------------------------------------------------------------------


def _cells(m: Measurement | None) -> str:
    if m is None:
        return f"{'-':>9}{'-':>8}{'-':>8}"
    return f"{m.rps:>9.0f}{m.p50_ms:>8.1f}{m.p99_ms:>8.1f}"


def _errors(m: Measurement | None) -> str:
    if m is None:
        return "-"
    return f"{m.connect_errors}c/{m.other_errors}o/{m.bad_status}s"


def table(result: Result) -> str:
    lines = [
        f"{result.cores} cores; harness serve --workers {result.workers}; {result.connections} connections; "
        f"{result.seconds:.0f} s per run; load generator: {result.driver}"
        f"{'; harness --no-fast-path' if result.no_fast_path else ''}"
        f"{'; harness --no-journal' if result.no_journal else ''}",
        "",
        f"{'scenario':<26}{'harness':>9}{'p50':>8}{'p99':>8} |{'prism':>9}{'p50':>8}{'p99':>8} |{'ratio':>7}"
        f"  errors harness / prism (connect/other/non-2xx)",
        f"{'':<26}{'req/s':>9}{'ms':>8}{'ms':>8} |{'req/s':>9}{'ms':>8}{'ms':>8} |",
    ]
    for row in result.rows:
        ratio = f"{row.ratio:>7.2f}" if row.ratio is not None else f"{'-':>7}"
        lines.append(f"{row.scenario:<26}{_cells(row.harness)} |{_cells(row.prism)} |{ratio}  "
                     f"{_errors(row.harness)} / {_errors(row.prism)}")
    lines += [
        "",
        f"bare RS256 signing (RSA-2048, PyJWT, key loaded once): {result.bare_rs256_one_core:.0f}/s on one core, "
        f"{result.bare_rs256_all_workers:.0f}/s in {result.workers} processes",
    ]
    for row in result.rows:
        if row.harness and "RS256" in row.scenario:
            share = row.harness.rps / result.bare_rs256_all_workers if result.bare_rs256_all_workers else 0
            lines.append(f"  {row.scenario}: {share:.0%} of the bare rate in {result.workers} processes "
                         f"(goal >= {GOALS['rs256_share_of_bare']:.0%})")
    prism_start = f"{result.prism_start:.2f} s" if result.prism_start else "not run"
    lines += [
        f"start to first 200: harness {result.harness_start:.2f} s (state exists), "
        f"{result.harness_cold_start:.2f} s (new state: key generation); prism {prism_start} "
        f"(goal <= {GOALS['start_seconds']} s)",
        "", "what prism answered (static examples; it checks only that a bearer is present):",
    ]
    lines += [f"  {row.scenario}: {row.prism_answer}" for row in result.rows if row.prism_answer]
    lines += ["", "goals:"] + [f"  {line}" for line in goal_lines(result)]
    profiles = [row.profile for row in result.rows if row.profile]
    if profiles:
        lines += ["", "where the harness's CPU time goes (py-spy, all workers):", *profiles]
    return "\n".join(lines)


def goal_lines(result: Result) -> list[str]:
    out = []
    for row in result.rows:
        if row.harness is None:
            continue
        checks = [f"p99 {row.harness.p99_ms:.1f} ms {'ok' if row.harness.p99_ms <= GOALS['p99_ms'] else 'MISSED'}"]
        if row.ratio is not None:
            checks.append(f"{row.ratio:.2f}x prism {'ok' if row.ratio >= GOALS['ratio_to_prism'] else 'MISSED'}")
        if row.harness.connect_errors or row.harness.other_errors or row.harness.bad_status:
            checks.append("ERRORS")
        out.append(f"{row.scenario}: " + ", ".join(checks))
    started_in_time = result.harness_start <= GOALS["start_seconds"]
    out.append(f"start {result.harness_start:.2f} s {'ok' if started_in_time else 'MISSED'}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per scenario and server")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--driver", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--only", action="append", help="run scenarios whose name contains this (repeatable)")
    parser.add_argument("--no-prism", action="store_true", help="measure the harness only")
    parser.add_argument("--no-journal", action="store_true",
                        help="without the request journal (harness serve --no-journal)")
    parser.add_argument("--no-fast-path", action="store_true",
                        help="serve every request through connexion's own stack (harness serve --no-fast-path)")
    parser.add_argument("--profile", type=Path, help="record py-spy samples of the workers into this directory")
    parser.add_argument("--json", type=Path, help="also write the result as JSON")
    args = parser.parse_args(argv)
    if args.profile and profiling.py_spy() is None:
        parser.error("--profile needs py-spy on PATH (pip install py-spy)")
    result = run(args)
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(asdict(result), indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
