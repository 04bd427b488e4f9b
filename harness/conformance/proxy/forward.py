"""The proxy's forwarding path: every request to the target as it came (but `Host` and hop-by-hop headers),
every answer back as the target gave it (a gzip body stays gzip), streamed, over keep-alive connections
(`upstream`). What passed is handed to `observe` after the answer."""

from __future__ import annotations

import gzip
import ssl
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from harness.conformance.proxy.upstream import Upstream, UpstreamError

HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te",
                        b"trailer", b"transfer-encoding", b"upgrade", b"host", b"proxy-connection"})
# (the request's content-length is written again for the body as read)
KEEP_FOR_JUDGING = 2 * 1024 * 1024  # bodies judged up to this size; larger ones pass through unjudged


@dataclass
class Exchange:
    method: str
    path: str  # as the client asked, with the query (the target's own base path not included)
    request_headers: list[tuple[bytes, bytes]]
    request_body: bytes
    status: int = 0
    response_headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    response_body: bytes = b""
    truncated: bool = False
    error: str | None = None  # the target could not be reached / broke off
    started: float = field(default_factory=time.time)
    elapsed_ms: float = 0.0

    @property
    def decoded_body(self) -> bytes:
        """The response body without its content coding (gzip and deflate), as the judge and the HAR read it; a
        body it cannot decode stays as it came."""
        coding = next((v.decode("latin-1").strip().lower() for k, v in self.response_headers
                       if k.lower() == b"content-encoding"), "")
        try:
            if coding in ("gzip", "x-gzip"):
                return gzip.decompress(self.response_body)
            if coding == "deflate":
                return zlib.decompress(self.response_body)
        except (OSError, zlib.error, EOFError):
            pass
        return self.response_body


Observer = Callable[[Exchange], Awaitable[None] | None]


class Forwarder:
    def __init__(self, target: str, observe: Observer, insecure: bool = False, max_connections: int = 100) -> None:
        parts = urlsplit(target.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{target!r} is not an http(s) URL")
        self.base_path = parts.path.encode()
        self.authority = parts.netloc.encode()
        context = None
        if parts.scheme == "https":
            context = ssl.create_default_context()
            if insecure:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
        self.upstream = Upstream(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), context,
                                 max_idle=max_connections)
        self.observe = observe

    async def aclose(self) -> None:
        await self.upstream.aclose()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, self.aclose)
            return
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        asked = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            asked += b"?" + scope["query_string"]
        target = self.base_path + asked
        headers = [(b"host", self.authority)] + [(k, v) for k, v in scope["headers"]
                                                 if k.lower() not in HOP_BY_HOP and k.lower() != b"content-length"]
        exchange = Exchange(scope["method"], asked.decode("latin-1"), headers, bytes(body))
        began = time.perf_counter()
        try:
            answer = await self.upstream.request(scope["method"].encode(), target, headers, bytes(body))
            out = [(k, v) for k, v in answer.headers if k.lower() not in HOP_BY_HOP]
            exchange.status, exchange.response_headers = answer.status, out
            await send({"type": "http.response.start", "status": answer.status, "headers": out})
            kept = bytearray()
            async for chunk in answer.body():
                if len(kept) < KEEP_FOR_JUDGING:
                    kept += chunk
                else:
                    exchange.truncated = True
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            exchange.response_body = bytes(kept)
        except UpstreamError as exc:
            exchange.error = str(exc)
            if not exchange.status:
                await send({"type": "http.response.start", "status": 502,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
                await send({"type": "http.response.body", "body": exchange.error.encode()})
            # past the status line the client's connection is dropped, as the target's was (uvicorn closes it)
        exchange.elapsed_ms = round((time.perf_counter() - began) * 1000, 3)
        result = self.observe(exchange)
        if result is not None:
            await result


async def _lifespan(receive: Any, send: Any, on_shutdown: Callable[[], Awaitable[None]]) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await on_shutdown()
            await send({"type": "lifespan.shutdown.complete"})
            return
