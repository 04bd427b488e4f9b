"""What the bench scripts share: starting Prism and `harness serve`, timing their start, and driving one
request at a fixed concurrency with wrk (if installed) or a Python asyncio load generator.

Everything listens on and talks to 127.0.0.1 only; every process started here is stopped by its context
manager.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx

from harness.testing.live import ProcessServer, free_port

REPO = Path(__file__).resolve().parent.parent
PRISM = REPO / "node_modules" / ".bin" / "prism"
LOOPBACK = "127.0.0.1"


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class Request:
    """One HTTP request, replayed as fast as the target answers."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Measurement:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    connect_errors: int = 0
    other_errors: int = 0
    # Responses outside 2xx/3xx (wrk's "Non-2xx or 3xx responses").
    bad_status: int = 0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


class Driver(Protocol):
    name: str

    def run(self, base_url: str, request: Request, connections: int, seconds: float) -> Measurement: ...


def _lua_string(text: str) -> str:
    level = "=" * 4
    if f"]{level}]" in text:
        raise ValueError("value cannot be embedded in a Lua long string")
    return f"[{level}[{text}]{level}]"


_WRK_DONE = """
done = function(summary, latency, requests)
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,' ..
    '"status":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status, latency:percentile(50), latency:percentile(99)))
end
"""


class WrkDriver:
    """wrk (Debian package) with a Lua script carrying the method, headers and body."""

    name = "wrk"

    def __init__(self, threads: int = 2, executable: str | None = None) -> None:
        self.threads = threads
        self.executable = executable or shutil.which("wrk") or "wrk"

    @staticmethod
    def available() -> bool:
        return shutil.which("wrk") is not None

    def script(self, request: Request) -> str:
        lines = [f"wrk.method = {_lua_string(request.method)}"]
        if request.body:
            lines.append(f"wrk.body = {_lua_string(request.body.decode())}")
        lines += [f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in request.headers.items()]
        return "\n".join(lines) + _WRK_DONE

    def run(self, base_url: str, request: Request, connections: int, seconds: float) -> Measurement:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
            fh.write(self.script(request))
        try:
            result = subprocess.run(
                [self.executable, "-t", str(min(self.threads, connections)), "-c", str(connections),
                 "-d", f"{max(1, round(seconds))}s", "--timeout", "5s", "-s", fh.name, base_url + request.path],
                capture_output=True, text=True, timeout=seconds + 30, check=False,
            )
        finally:
            Path(fh.name).unlink(missing_ok=True)
        line = next((ln for ln in result.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
        if line is None:
            raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr.strip() or result.stdout[-500:]}")
        data = json.loads(line.removeprefix("WRKJSON "))
        return Measurement(
            requests=data["requests"], seconds=data["duration_us"] / 1e6,
            p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000,
            connect_errors=data["connect"], other_errors=data["read"] + data["write"] + data["timeout"],
            bad_status=data["status"],
        )


class PythonDriver:
    """asyncio + httpx, one coroutine per connection; slower than wrk, so it caps what it can measure."""

    name = "python"

    def run(self, base_url: str, request: Request, connections: int, seconds: float) -> Measurement:
        return asyncio.run(self._run(base_url, request, connections, seconds))

    async def _run(self, base_url: str, request: Request, connections: int, seconds: float) -> Measurement:
        latencies: list[float] = []
        counts = {"connect": 0, "other": 0, "status": 0}
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=5.0) as client:
            started = time.perf_counter()
            deadline = started + seconds

            async def connection() -> None:
                while time.perf_counter() < deadline:
                    sent = time.perf_counter()
                    try:
                        response = await client.request(
                            request.method, request.path, headers=request.headers, content=request.body or None)
                    except httpx.ConnectError:
                        counts["connect"] += 1
                        continue
                    except httpx.HTTPError:
                        counts["other"] += 1
                        continue
                    latencies.append(time.perf_counter() - sent)
                    if response.status_code >= 400:
                        counts["status"] += 1

            await asyncio.gather(*(connection() for _ in range(connections)))
            elapsed = time.perf_counter() - started
        latencies.sort()
        return Measurement(
            requests=len(latencies), seconds=elapsed,
            p50_ms=percentile(latencies, 50) * 1000, p99_ms=percentile(latencies, 99) * 1000,
            connect_errors=counts["connect"], other_errors=counts["other"], bad_status=counts["status"],
        )


def best_driver(prefer: str = "auto") -> Driver:
    if prefer == "wrk" or (prefer == "auto" and WrkDriver.available()):
        return WrkDriver()
    return PythonDriver()


def wait_for_status(url: str, status: int = 200, timeout: float = 30.0, poll: float = 0.005,
                    process: subprocess.Popen[bytes] | None = None) -> None:
    """Poll `url` until it answers `status`; fail early if `process` exits."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if client.get(url).status_code == status:
                    return
            time.sleep(poll)
    raise TimeoutError(f"{url} did not answer {status} within {timeout}s")


@dataclass
class Started:
    """A running server, its base URL and how long it took from launch to its first 200."""

    url: str
    start_seconds: float
    pid: int


@contextlib.contextmanager
def harness_serve(state_dir: Path, workers: int = 2, *extra: str, probe: str = "/.well-known/jwks.json",
                  port: int | None = None) -> Iterator[Started]:
    """`harness serve` as a child process; `start_seconds` is launch → first 200 on `probe` (an API route)."""
    server = ProcessServer(state_dir, workers, port, *extra)
    launched = time.perf_counter()
    process = server.launch()
    try:
        wait_for_status(server.url + probe, process=process, timeout=60)
        yield Started(server.url, time.perf_counter() - launched, process.pid)
    finally:
        server.stop()


@contextlib.contextmanager
def prism_mock(spec: Path, probe: str = "/") -> Iterator[Started]:
    """`prism mock SPEC` on a free loopback port, quiet (`-v error`); `start_seconds` is launch → first answer."""
    if not PRISM.exists():
        raise FileNotFoundError(f"{PRISM} is missing: run `npm install` (make node)")
    port = free_port()
    args = [str(PRISM), "mock", str(spec), "-h", LOOPBACK, "-p", str(port), "-v", "error"]
    launched = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://{LOOPBACK}:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:  # any HTTP answer means Prism is listening (the probe path may be a 404 there)
            if process.poll() is not None:
                output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                raise RuntimeError(f"prism exited with {process.returncode}: {output[-2000:]}")
            try:
                httpx.get(url + probe, timeout=1.0)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise TimeoutError("prism did not start within 60s") from None
                time.sleep(0.01)
        yield Started(url, time.perf_counter() - launched, process.pid)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """Terminate a child the bench started, killing it if it does not exit within `timeout` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
