"""HTTP to the target: one httpx client per base URL that remembers its exchanges, and curl rendering.

Kept apart from the rules so a rule only says what to send and what to expect; whatever it sent last is
what a failure report turns into a reproducing `curl` command. Known secrets (client secrets, passwords,
gateway bearers) are written as shell variables in that command, never in clear.
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

_HIDDEN_HEADERS = frozenset({"host", "content-length", "accept-encoding", "connection", "user-agent", "accept"})


class Secrets:
    """Secret values and the shell variable each is shown as.

    Shared by the threads of a parallel schema phase, which add the tokens they fetch while another thread may
    be quoting a command: the map changes under a lock and is iterated from a copy.
    """

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._lock = threading.Lock()

    def add(self, value: str | None, name: str) -> None:
        if value:
            with self._lock:
                self._names[value] = name

    def _snapshot(self) -> dict[str, str]:
        with self._lock:
            return dict(self._names)

    def quote(self, text: str) -> str:
        """`text` as one shell word, each secret in it written as `${NAME}` (double quotes so it expands)."""
        names = self._snapshot()
        found = [value for value in sorted(names, key=len, reverse=True) if value in text]
        if not found:
            return shlex.quote(text)
        marks = {value: f"\0{index}\0" for index, value in enumerate(found)}
        for value, mark in marks.items():
            text = text.replace(value, mark)
        for char in ("\\", '"', "$", "`"):
            text = text.replace(char, "\\" + char)
        for value, mark in marks.items():
            text = text.replace(mark, f"${{{names[value]}}}")
        return f'"{text}"'

    def __contains__(self, value: str) -> bool:
        return value in self._names


def curl_command(request: httpx.Request, secrets: Secrets | None = None) -> str:
    """A shell command that sends the same request (method, URL, headers, body)."""
    parts = ["curl", "-i", "-X", request.method]
    for raw_name, raw_value in request.headers.raw:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        if name.lower() not in _HIDDEN_HEADERS:
            parts += ["-H", f"{name}: {value}"]
    body = request.content
    if body:
        parts += ["--data-binary", body.decode("utf-8", errors="replace")]
    parts.append(str(request.url))
    return " ".join((secrets or Secrets()).quote(part) for part in parts)


class _Borrowed(httpx.BaseTransport):
    """Another's httpx transport, shared by the clients of one run and closed by its owner, not by them."""

    def __init__(self, transport: httpx.BaseTransport) -> None:
        self.transport = transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.transport.handle_request(request)


class Transport:
    """An httpx client on one base URL that never follows redirects and records every exchange.

    `http` is the httpx transport to send through (default: the network); give one to run in process
    (`harness.testing.transport.ASGIAppTransport`) or against a mock. The caller keeps closing it.
    """

    def __init__(
        self, base_url: str, timeout: float = 10.0, secrets: Secrets | None = None,
        exchanges: list[httpx.Response] | None = None, http: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.secrets = secrets or Secrets()
        # Shared between transports of one run, so "the last request" spans login and API hosts.
        self.exchanges: list[httpx.Response] = exchanges if exchanges is not None else []
        self._siblings: list[Transport] = []
        self.http = http
        self.client = httpx.Client(
            base_url=self.base_url, timeout=timeout, follow_redirects=False,
            event_hooks={"response": [self._remember]}, transport=_Borrowed(http) if http is not None else None,
        )

    def _remember(self, response: httpx.Response) -> None:
        self.exchanges.append(response)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = self.client.request(method, url, **kwargs)
        response.read()
        return response

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    @property
    def last(self) -> httpx.Response | None:
        return self.exchanges[-1] if self.exchanges else None

    def last_curl(self) -> str:
        return curl_command(self.last.request, self.secrets) if self.last is not None else ""

    def sibling(self, base_url: str) -> Transport:
        """A transport on another host that shares secrets and the exchange log; closed with this one."""
        sibling = Transport(base_url, self.timeout, self.secrets, self.exchanges, self.http)
        self._siblings.append(sibling)
        return sibling

    @contextmanager
    def session(self) -> Iterator[Transport]:
        """A transport with its own cookie jar (a fresh "browser") sharing this one's settings."""
        other = Transport(self.base_url, self.timeout, self.secrets, self.exchanges, self.http)
        try:
            yield other
        finally:
            other.close()

    def close(self) -> None:
        for sibling in self._siblings:
            sibling.close()
        self.client.close()
