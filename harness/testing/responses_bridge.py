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

DEFAULT_BASE_URLS: dict[str, str] = {
    "sunbird": "https://staging.open-sunbird.org",
    "ekool_login": "https://login.ekool.dev",
    "ekool_api": "https://api-v2.ekool.dev",
}
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# The TestClient already decoded the body; these would describe the wire form, not what we return.
_HOP_HEADERS = {"content-encoding", "content-length", "transfer-encoding", "connection"}


class HarnessMock:
    """Context manager: while active, requests to the base URLs are answered by `app`."""

    def __init__(self, app: Any, base_urls: Mapping[str, str] | None = None) -> None:
        self.base_urls = dict(base_urls or DEFAULT_BASE_URLS)
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
