"""Keep-alive HTTP/1.1 connections to the target, read with httptools' C parser.

A pass-through spends its time building and parsing messages: httpx and httpcore (h11, pure Python) cost the
proxy about 3 ms an exchange here, as much again as the target's own answer. This module writes the request
line and headers as they came and reads the answer with the parser uvicorn uses, handing the body on chunk
by chunk as it arrives (content-length, chunked, or until close).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httptools


class UpstreamError(Exception):
    """The target could not be reached, or broke the connection or the protocol."""


@dataclass
class _Answer:
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)
    headers_done: bool = False
    complete: bool = False
    keep_alive: bool = True


class _Parsing:
    """httptools callbacks, collecting into one `_Answer`."""

    def __init__(self, answer: _Answer) -> None:
        self.answer = answer
        self.parser = httptools.HttpResponseParser(self)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.answer.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.answer.status = self.parser.get_status_code()
        self.answer.keep_alive = self.parser.should_keep_alive()
        self.answer.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.answer.chunks.append(body)

    def on_message_complete(self) -> None:
        self.answer.complete = True


class Response:
    """An answer whose status and headers have arrived; `body()` yields the rest as it comes."""

    def __init__(self, pool: Upstream, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter],
                 parsing: _Parsing, no_body: bool) -> None:
        self._pool, self._connection, self._parsing, self._no_body = pool, connection, parsing, no_body
        self.status = parsing.answer.status
        self.headers = parsing.answer.headers

    async def body(self) -> AsyncIterator[bytes]:
        answer, reader = self._parsing.answer, self._connection[0]
        try:
            while True:
                if answer.chunks:
                    chunks, answer.chunks = answer.chunks, []
                    for chunk in chunks:
                        yield chunk
                if answer.complete or self._no_body:
                    break
                data = await reader.read(65536)
                if not data:
                    with contextlib.suppress(httptools.HttpParserError):
                        self._parsing.parser.feed_data(b"")  # a body that ends with the connection
                    if not answer.complete:
                        raise UpstreamError("the target closed the connection before the answer was complete")
                    continue
                try:
                    self._parsing.parser.feed_data(data)
                except httptools.HttpParserError as exc:
                    raise UpstreamError(f"the target's answer is not HTTP/1.1: {exc}") from None
        except BaseException:
            self._connection[1].close()
            raise
        if (answer.complete or self._no_body) and answer.keep_alive:
            self._pool.release(self._connection)
        else:
            self._connection[1].close()


class Upstream:
    def __init__(self, host: str, port: int, ssl_context: ssl.SSLContext | None, max_idle: int = 100) -> None:
        self.host, self.port, self.ssl = host, port, ssl_context
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._max_idle = max_idle

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.open_connection(self.host, self.port, ssl=self.ssl,
                                                 server_hostname=self.host if self.ssl else None,
                                                 limit=1 << 20)
        except (OSError, ssl.SSLError) as exc:
            raise UpstreamError(f"target unreachable: {exc}") from None

    def release(self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        if len(self._idle) < self._max_idle and not connection[1].is_closing():
            self._idle.append(connection)
        else:
            connection[1].close()

    async def request(self, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes
                      ) -> Response:
        head = [method + b" " + target + b" HTTP/1.1\r\n"]
        head += [name + b": " + value + b"\r\n" for name, value in headers]
        if body or method in (b"POST", b"PUT", b"PATCH"):
            head.append(b"content-length: " + str(len(body)).encode() + b"\r\n")
        message = b"".join(head) + b"\r\n" + body
        # a kept-alive connection the target closed meanwhile fails on first use: try a fresh one once
        for reused in (True, False):
            connection = self._idle.pop() if reused and self._idle else None
            if connection is None:
                reused = False
                connection = await self._connect()
            try:
                return await self._send(connection, message, no_body=method == b"HEAD")
            except UpstreamError:
                connection[1].close()
                if not reused:
                    raise
        raise AssertionError("unreachable")

    async def _send(self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], message: bytes,
                    no_body: bool) -> Response:
        reader, writer = connection
        parsing = _Parsing(_Answer())
        try:
            writer.write(message)
            await writer.drain()
            while not parsing.answer.headers_done:
                data = await reader.read(65536)
                if not data:
                    raise UpstreamError("the target closed the connection without an answer")
                parsing.parser.feed_data(data)
        except (OSError, httptools.HttpParserError) as exc:
            raise UpstreamError(f"the target broke off: {exc}") from None
        no_body = no_body or parsing.answer.status in (204, 304) or 100 <= parsing.answer.status < 200
        return Response(self, connection, parsing, no_body)

    async def aclose(self) -> None:
        while self._idle:
            self._idle.pop()[1].close()
