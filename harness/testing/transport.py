"""A synchronous `httpx` transport to an ASGI app, in process (no socket): the one test seam of the product.

`httpx.ASGITransport` is async only; this runs it on an event loop in a background thread of its own, so a
plain `httpx.Client(transport=ASGIAppTransport(app))` (and `harness.conformance.runner.conform(...,
transport=...)`) talks to the reference app, a mutant or any ASGI app as it would to a server.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx


class ASGIAppTransport(httpx.BaseTransport):
    """`close()` (which an `httpx.Client` calls when it closes) stops the loop; the next request starts another,
    so one transport serves any number of clients in turn."""

    def __init__(self, app: Any, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self._asgi = httpx.ASGITransport(app=app, client=client)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, name="asgi-transport", daemon=True)
                self._thread.start()
            return self._loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        forwarded = httpx.Request(request.method, request.url, headers=request.headers, content=body,
                                  extensions=request.extensions)

        async def call() -> httpx.Response:
            answer = await self._asgi.handle_async_request(forwarded)
            content = await answer.aread()
            return httpx.Response(answer.status_code, headers=answer.headers, content=content,
                                  extensions={k: v for k, v in answer.extensions.items() if k != "network_stream"})

        return asyncio.run_coroutine_threadsafe(call(), self._running_loop()).result()

    def close(self) -> None:
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()

    def __enter__(self) -> ASGIAppTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
