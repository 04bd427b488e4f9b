"""`harness proxy` as a pass-through (issue 15): the target gets each request as sent (any method, the body, the
headers but `Host` and hop-by-hop ones), the client gets each answer as the target gave it (gzip stays gzip,
chunked bodies stream, HEAD, a body too large to judge), an unreachable target is a 502, and an https target is
verified unless `--insecure`."""

from __future__ import annotations

import asyncio
import datetime
import gzip
import ipaddress
import json
import threading
from pathlib import Path

import httpx
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from harness.conformance.config import ConformConfig
from harness.conformance.proxy import ProxyRun
from harness.testing.live import ThreadedServer, free_port

BIG = b"x" * (3 * 1024 * 1024)


async def echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse({"method": request.method, "path": request.url.path, "query": request.url.query,
                         "headers": dict(request.headers), "body": body.decode()})


async def compressed(request: Request) -> Response:
    return Response(gzip.compress(b'{"keys": []}'), media_type="application/json",
                    headers={"content-encoding": "gzip"})


async def streamed(request: Request) -> Response:
    async def chunks():
        for index in range(5):
            yield f"chunk {index}\n".encode()
            await asyncio.sleep(0.01)

    return StreamingResponse(chunks(), media_type="text/plain")


async def big(request: Request) -> Response:
    return Response(BIG, media_type="application/octet-stream")


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


TARGET = Starlette(routes=[
    Route("/__harness/health", health),
    Route("/echo/{rest:path}", echo, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
    Route("/gzip", compressed), Route("/stream", streamed), Route("/big", big, methods=["GET", "HEAD"]),
])


def proxy_to(target: str, insecure: bool = False) -> tuple[ProxyRun, ThreadedServer]:
    run = ProxyRun(ConformConfig(target=target), target, on_violation=lambda v: None, insecure=insecure)
    return run, ThreadedServer(run.forwarder, healthy=False)


def test_requests_reach_the_target_as_sent():
    with ThreadedServer(TARGET) as target:
        run, server = proxy_to(target.url)
        with server, httpx.Client(base_url=server.url) as http:
            _send_every_method(http, target.url.removeprefix("http://"))
    run.finish()


def _send_every_method(http: httpx.Client, target_authority: str) -> None:
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        answer = http.request(method, "/echo/a//b?x=1&y=%20", content=b"payload", headers={
            "X-App": "web", "Authorization": "Bearer t", "Connection": "keep-alive, x-app"})
        seen = answer.json()
        assert (seen["method"], seen["path"], seen["query"], seen["body"]) == (method, "/echo/a//b",
                                                                                "x=1&y=%20", "payload")
        assert seen["headers"]["x-app"] == "web" and seen["headers"]["authorization"] == "Bearer t"
        assert seen["headers"]["host"] == target_authority
        assert seen["headers"].get("connection") != "keep-alive, x-app"  # hop-by-hop: not passed on


def test_answers_reach_the_client_as_given():
    with ThreadedServer(TARGET) as target:
        run, server = proxy_to(target.url)
        with server, httpx.Client(base_url=server.url) as http:
            _read_every_kind_of_answer(http)
    run.finish()  # after the proxy stopped: every exchange it answered has been handed over
    assert run.judge.exchanges == 5  # the big body passed unjudged, and counts


def _read_every_kind_of_answer(http: httpx.Client) -> None:
    zipped = http.get("/gzip", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.json() == {"keys": []}
    with http.stream("GET", "/stream") as answer:
        assert [line for line in answer.iter_lines()] == [f"chunk {i}" for i in range(5)]
    assert http.get("/big").content == BIG
    head = http.head("/big")
    assert head.status_code == 200 and head.content == b""
    assert http.get("/echo/after-head").status_code == 200  # the kept-alive connection still works


def test_an_unreachable_target_is_a_502_and_the_proxy_goes_on():
    run, server = proxy_to(f"http://127.0.0.1:{free_port()}")
    with server, httpx.Client(base_url=server.url) as http:
        answer = http.get("/anything")
        assert answer.status_code == 502 and "target unreachable" in answer.text
        assert http.get("/again").status_code == 502
    run.finish()


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False).sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_an_https_target_is_verified_unless_insecure(tmp_path):
    cert, key = _self_signed(tmp_path)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(TARGET, host="127.0.0.1", port=port, log_level="warning",
                                           ssl_certfile=str(cert), ssl_keyfile=str(key), lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        with httpx.Client(verify=False) as probe:
            for _ in range(200):
                try:
                    probe.get(f"https://127.0.0.1:{port}/__harness/health")
                    break
                except httpx.HTTPError:
                    threading.Event().wait(0.05)
        for insecure, status in ((False, 502), (True, 200)):
            run, proxy = proxy_to(f"https://127.0.0.1:{port}", insecure=insecure)
            with proxy, httpx.Client(base_url=proxy.url) as http:
                answer = http.get("/echo/tls")
                assert answer.status_code == status, answer.text
                if insecure:
                    assert json.loads(answer.text)["path"] == "/echo/tls"
                else:
                    assert "CERTIFICATE_VERIFY_FAILED" in answer.text
            run.finish()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
