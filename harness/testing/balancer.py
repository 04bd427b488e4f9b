"""A round-robin over instances of one deployment, on the client side: each request goes to the next instance,
as behind a load balancer without sticky sessions (httpx's one seam, `transport=`). Every instance sees the
`Host` of the client's base URL.

    client = httpx.Client(base_url=urls[0], transport=RoundRobin(urls))
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence

import httpx


class RoundRobin(httpx.BaseTransport):
    def __init__(self, base_urls: Sequence[str], **transport_options: object) -> None:
        if not base_urls:
            raise ValueError("a round-robin needs at least one instance")
        self.targets = [httpx.URL(url) for url in base_urls]
        self._transports = [httpx.HTTPTransport(**transport_options) for _ in base_urls]  # type: ignore[arg-type]
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self.sent = [0] * len(base_urls)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            index = next(self._turn) % len(self.targets)
            self.sent[index] += 1
        target = self.targets[index]
        # the Host header stays the client's (the deployment's one address), as a load balancer passes it on:
        # issuers and redirects built from it are the same at every instance
        request.url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
        return self._transports[index].handle_request(request)

    def close(self) -> None:
        for transport in self._transports:
            transport.close()
