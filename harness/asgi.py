"""Small ASGI helpers shared by middleware that must see a request body before the app does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

Receive = Callable[[], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Body:
    data: bytes
    too_large: bool = False  # more than the limit arrived; `data` is then empty
    disconnected: bool = False  # the client went away before the body ended; `data` is what arrived


async def read_body(receive: Receive, limit: int | None = None) -> Body:
    """Buffer the whole request body, stopping early past `limit` bytes or on a disconnect."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return Body(b"".join(chunks), disconnected=True)
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            return Body(b"", too_large=True)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return Body(b"".join(chunks))


def replay(data: bytes, receive: Receive) -> Receive:
    """A `receive` that yields the buffered body once, then the client's own messages (its disconnect)."""
    sent = False

    async def replayed() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": data, "more_body": False}

    return replayed


async def respond(send: Callable[[dict[str, Any]], Awaitable[None]], status: int,
                  headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    """Send a complete response with its Content-Length."""
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
