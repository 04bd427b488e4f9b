"""What `harness proxy` adds: the median and p99 latency of `GET /.well-known/jwks.json` over one keep-alive
connection, straight to `harness serve` and through the proxy (no report flags), beside a plain starlette +
httpx pass-through for scale; then a sustained run at 50 connections through the proxy (req/s, socket errors,
non-2xx). Everything on 127.0.0.1; every process started here is stopped.

    .venv/bin/python -m bench.proxy [--requests 3000] [--seconds 20] [--connections 50] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

from bench.common import LOOPBACK, Request, best_driver, harness_serve, percentile, stop, wait_for_status
from harness.testing.live import free_port

PATH = "/.well-known/jwks.json"

PLAIN_PASS_THROUGH = textwrap.dedent("""
    import sys

    import httpx
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    client = httpx.AsyncClient(base_url=sys.argv[1])

    async def forward(request):
        answer = await client.request(request.method, request.url.path, headers=[
            (k, v) for k, v in request.headers.items() if k not in ("host", "connection")],
            content=await request.body())
        return Response(answer.content, answer.status_code, headers={
            k: v for k, v in answer.headers.items() if k not in ("content-length", "connection", "content-encoding")})

    app = Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST"])])
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
""")


@contextlib.contextmanager
def child(args: list[str], probe: str) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_status(probe, process=process, timeout=60)
        yield process
    finally:
        stop(process, timeout=15)


def latencies(port: int, requests: int) -> list[float]:
    """Milliseconds per request, one keep-alive connection, after a warm-up."""
    connection = http.client.HTTPConnection(LOOPBACK, port)
    times = []
    try:
        for index in range(requests + 200):
            started = time.perf_counter()
            connection.request("GET", PATH)
            answer = connection.getresponse()
            answer.read()
            if answer.status != 200:
                raise RuntimeError(f"{PATH} answered {answer.status}")
            if index >= 200:
                times.append((time.perf_counter() - started) * 1000)
    finally:
        connection.close()
    return sorted(times)


def summary(times: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(times, 50), 3), "p99_ms": round(percentile(times, 99), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result: dict[str, object] = {"cores": os.cpu_count(), "path": PATH}
    with tempfile.TemporaryDirectory() as state, harness_serve(Path(state), 1, "--no-journal") as target:
        direct = latencies(int(target.url.rsplit(":", 1)[1]), args.requests)
        result["direct"] = summary(direct)
        plain_port = free_port()
        with child([sys.executable, "-c", PLAIN_PASS_THROUGH, target.url, str(plain_port)],
                   f"http://{LOOPBACK}:{plain_port}{PATH}"):
            plain = latencies(plain_port, args.requests)
        result["starlette_httpx_pass_through"] = summary(plain)
        proxy_port = free_port()
        with child([sys.executable, "-m", "harness", "proxy", "--target", target.url, "--port", str(proxy_port)],
                   f"http://{LOOPBACK}:{proxy_port}{PATH}"):
            proxied = latencies(proxy_port, args.requests)
            result["harness_proxy"] = summary(proxied)
            load = best_driver().run(f"http://{LOOPBACK}:{proxy_port}", Request("GET", PATH), args.connections,
                                     args.seconds)
        result["added_p50_ms"] = {
            "harness_proxy": round(percentile(proxied, 50) - percentile(direct, 50), 3),
            "starlette_httpx_pass_through": round(percentile(plain, 50) - percentile(direct, 50), 3),
        }
        result["sustained"] = {"connections": args.connections, "seconds": args.seconds, "rps": round(load.rps, 1),
                               "p50_ms": load.p50_ms, "p99_ms": load.p99_ms, "connect_errors": load.connect_errors,
                               "other_errors": load.other_errors, "non_2xx": load.bad_status}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
