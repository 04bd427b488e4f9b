"""CORS for browser apps on another origin (`http://localhost:3000`, a Vite dev server…), on by default as Prism.

Every path answers a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) with 204, the asked
method and headers, and lets the page send cookies (`Access-Control-Allow-Credentials`); every answer to an
allowed origin names that origin and exposes the headers a token client reads. With a list of origins, any
other origin gets no CORS header at all, so the browser blocks it; a request without `Origin` is untouched.

Starlette's `CORSMiddleware` is not used: it answers a preflight with 200, and with every origin allowed it
sends `*`, which a browser refuses on a credentialed request; the behaviour here is a dozen lines.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

EXPOSED_HEADERS = b"WWW-Authenticate, Cache-Control, Pragma, Location, Content-Type, Retry-After"
PREFLIGHT_MAX_AGE = b"600"


def parse_origins(text: str) -> tuple[str, ...]:
    """`--cors-origins` as given: exact origins, comma-separated; ValueError names a malformed one."""
    origins = tuple(part.strip().rstrip("/") for part in text.split(",") if part.strip())
    for origin in origins:
        scheme, sep, host = origin.partition("://")
        if scheme not in ("http", "https") or not sep or not host or "/" in host:
            raise ValueError(f"{origin!r} is not an origin (scheme://host[:port], e.g. http://localhost:5173)")
    return origins


class Cors:
    """ASGI middleware; `origins` empty: every origin is allowed (its own name is sent back)."""

    def __init__(self, app: ASGIApp, origins: Iterable[str] = ()) -> None:
        self.app = app
        self.origins = frozenset(origins)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        origin = _header(scope, b"origin") if scope["type"] == "http" else None
        if origin is None or (self.origins and origin.decode("latin-1") not in self.origins):
            await self.app(scope, receive, send)
            return
        asked_method = _header(scope, b"access-control-request-method")
        if scope["method"] == "OPTIONS" and asked_method is not None:
            await _preflight(scope, send, origin, asked_method)
            return

        async def with_cors(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if not k.lower().startswith(b"access-control-")]
                headers += [(b"access-control-allow-origin", origin), (b"access-control-allow-credentials", b"true"),
                            (b"access-control-expose-headers", EXPOSED_HEADERS), (b"vary", b"Origin")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_cors)


async def _preflight(scope: Scope, send: Any, origin: bytes, method: bytes) -> None:
    headers = [(b"access-control-allow-origin", origin), (b"access-control-allow-credentials", b"true"),
               (b"access-control-allow-methods", method), (b"access-control-max-age", PREFLIGHT_MAX_AGE),
               (b"vary", b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers")]
    asked_headers = _header(scope, b"access-control-request-headers")
    if asked_headers:
        headers.append((b"access-control-allow-headers", asked_headers))
    if _header(scope, b"access-control-request-private-network") == b"true":  # Chrome's Private Network Access
        headers.append((b"access-control-allow-private-network", b"true"))
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value
    return None
