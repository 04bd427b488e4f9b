"""Route `requests` calls for the documented hosts to the in-process reference app, with no socket.

`responses` has no ASGI adapter: every method on each base URL gets a callback that replays the
request through a Starlette TestClient and hands the answer back to `requests` unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import responses
from requests import PreparedRequest
from starlette.testclient import TestClient


def documented_base_urls() -> dict[str, str]:
    """`<api>:<host>` -> `https://<host>` for every https server the registered specs document (top level and
    per path): the hosts a client under test is written against."""
    from harness.plugins import api_names
    from harness.specs import load_spec

    found: dict[str, str] = {}
    for api in api_names():
        spec = load_spec(api)
        servers = [*spec.get("servers", []), *(s for item in spec.get("paths", {}).values()
                                               for s in item.get("servers", []))]
        for server in servers:
            url = urlsplit(server["url"])
            if url.scheme == "https" and url.netloc:
                found.setdefault(f"{api}:{url.netloc}", f"https://{url.netloc}")
    return found

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# The TestClient already decoded the body; these would describe the wire form, not what we return.
_HOP_HEADERS = {"content-encoding", "content-length", "transfer-encoding", "connection"}


class HarnessMock:
    """Context manager: while active, requests to the base URLs are answered by `app`."""

    def __init__(self, app: Any, base_urls: Mapping[str, str] | None = None) -> None:
        self.base_urls = dict(base_urls or documented_base_urls())
        self._client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
        self._mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        for base in self.base_urls.values():
            pattern = re.compile(re.escape(base.rstrip("/")) + r"(?:[/?].*)?$")
            for method in _METHODS:
                self._mock.add_callback(method, pattern, callback=self._forward)

    @property
    def calls(self) -> responses.CallList:
        return self._mock.calls

    def _forward(self, request: PreparedRequest) -> tuple[int, list[tuple[str, str]], bytes]:
        url = urlsplit(request.url or "")
        target = url.path or "/"
        if url.query:
            target += f"?{url.query}"
        body = request.body.encode() if isinstance(request.body, str) else request.body
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        answer = self._client.request(request.method or "GET", target, headers=headers, content=body)
        kept = [(k, v) for k, v in answer.headers.multi_items() if k.lower() not in _HOP_HEADERS]
        return answer.status_code, kept, answer.content

    def start(self) -> HarnessMock:
        self._client.__enter__()
        self._mock.start()
        return self

    def stop(self) -> None:
        self._mock.stop()
        self._mock.reset()
        self._client.__exit__(None, None, None)

    def __enter__(self) -> HarnessMock:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
