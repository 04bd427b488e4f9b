"""`harness record`: a proxy in front of a target that writes each exchange as a fixture file.

Point a real client at the proxy; every request is forwarded to the target unchanged, and the exchange is
written to `<out>/<api>/<n>_<operation>.yaml` in the format of `harness.fixtures`. Secrets never reach the
file: the `Authorization` header, client secrets, passwords, codes and tokens in requests become the
`{{variables}}` the replayer fills, and tokens and secrets in responses become typed placeholders.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import yaml

from harness.asgi import read_body, respond
from harness.conformance.apis import for_api
from harness.conformance.config import ConformConfig
from harness.conformance.operations import OperationIndex

REDACTED = "<redacted>"
RESPONSE_SECRET_KEYS = frozenset({"access_token", "refresh_token", "token", "secret", "id_token", "code"})
KEPT_RESPONSE_HEADERS = ("content-type", "location", "cache-control", "pragma", "www-authenticate")
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding",
                        "host", "upgrade", "proxy-connection"})
_SLASHES = re.compile(r"/{2,}")
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


# Secret form fields of any API; an API's conformance half names the replay variables it fills them from.
_SECRET_FIELDS = {"password": "redacted_password", "client_secret": "redacted_client_secret",
                  "refresh_token": "redacted_refresh_token", "code": "redacted_code"}


class Redactor:
    """Turns secrets into replay variables (requests) and placeholders (responses)."""

    def __init__(self, config: ConformConfig) -> None:
        self.config = config

    def bearer_variable(self, api: str, token: str) -> str:
        if api not in self.config.apis:
            return "redacted_bearer"
        return for_api(api).bearer_variable(getattr(self.config, api), token)

    def request_headers(self, api: str, headers: httpx.Headers) -> dict[str, str]:
        kept: dict[str, str] = {}
        if "content-type" in headers:
            kept["Content-Type"] = headers["content-type"]
        authorization = headers.get("authorization")
        if authorization:
            scheme, _, credentials = authorization.partition(" ")
            if scheme.lower() == "bearer":
                kept["Authorization"] = f"Bearer {{{{{self.bearer_variable(api, credentials)}}}}}"
            else:
                kept["Authorization"] = f"{scheme} {{{{redacted_credentials}}}}"
        return kept

    def field_variable(self, api: str, name: str) -> str | None:
        own = for_api(api).field_variables if api in self.config.apis else {}
        return own.get(name) or _SECRET_FIELDS.get(name)

    def request_fields(self, api: str, fields: dict[str, Any]) -> dict[str, Any]:
        redacted = {}
        for name, value in fields.items():
            variable = self.field_variable(api, name)
            redacted[name] = f"{{{{{variable}}}}}" if variable and value else value
        return redacted

    def response_body(self, body: Any, placeholders: list[str], pointer: str = "/response/body") -> Any:
        if isinstance(body, dict):
            redacted = {}
            for key, value in body.items():
                child = f"{pointer}/{key}"
                if key in RESPONSE_SECRET_KEYS and isinstance(value, str) and value:
                    redacted[key] = REDACTED
                    placeholders.append(child)
                else:
                    redacted[key] = self.response_body(value, placeholders, child)
            return redacted
        if isinstance(body, list):
            return [self.response_body(v, placeholders, f"{pointer}/{i}") for i, v in enumerate(body)]
        return body

    @staticmethod
    def location(value: str, placeholders: list[str]) -> str:
        parts = urlsplit(value)
        query = parse_qsl(parts.query, keep_blank_values=True)
        if not any(k == "code" for k, _ in query):
            return value
        placeholders.append("/response/headers/Location")
        query = [(k, REDACTED if k == "code" else v) for k, v in query]
        return urlunsplit(parts._replace(query=urlencode(query)))


def _decoded_body(content_type: str, raw: bytes) -> tuple[str, Any] | None:
    """("body", JSON value) or ("form", dict) or ("body", text); None when empty."""
    if not raw:
        return None
    media = content_type.split(";")[0].strip().lower()
    text = raw.decode("utf-8", errors="replace")
    if media == "application/x-www-form-urlencoded":
        return "form", dict(parse_qsl(text, keep_blank_values=True))
    if media.endswith("json"):
        try:
            return "body", json.loads(text)
        except ValueError:
            return "body", text
    return "body", text


class FixtureWriter:
    def __init__(self, out: Path, target: str, redactor: Redactor, index: OperationIndex) -> None:
        self.out, self.target, self.redactor, self.index = out, target, redactor, index
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self.written: list[Path] = []

    def write(self, request: httpx.Request, body: bytes, response: httpx.Response) -> Path:
        api, operation = self.index.find(request.method, request.url.path)
        placeholders: list[str] = []
        path = request.url.raw_path.decode()
        recorded_request: dict[str, Any] = {"method": request.method, "path": path,
                                            "headers": self.redactor.request_headers(api, request.headers)}
        decoded = _decoded_body(request.headers.get("content-type", ""), body)
        if decoded is not None:
            kind, value = decoded
            recorded_request[kind] = self.redactor.request_fields(api, value) if isinstance(value, dict) else value
        response_headers = {}
        for name in KEPT_RESPONSE_HEADERS:
            if name in response.headers:
                title = "-".join(part.capitalize() for part in name.split("-"))
                value = response.headers[name]
                response_headers[title] = self.redactor.location(value, placeholders) if name == "location" else value
        recorded_response: dict[str, Any] = {"status": response.status_code, "headers": response_headers}
        answer = _decoded_body(response.headers.get("content-type", ""), response.content)
        if answer is not None:
            recorded_response["body"] = self.redactor.response_body(answer[1], placeholders)
        document = {
            "source": f"recorded from {self.target} by `harness record` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            "description": f"{request.method} {request.url.path} → {response.status_code}",
            "operation": operation,
            "request": recorded_request,
            "response": recorded_response,
            "placeholders": placeholders,
        }
        with self._lock:
            directory = self.out / api
            directory.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", operation or request.url.path.strip("/") or "root")[-60:]
            target = directory / f"{next(self._counter):03d}_{name}.yaml"
            target.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
            self.written.append(target)
        return target


class RecordingProxy:
    """ASGI app: forward to the target, answer the client, write the exchange."""

    def __init__(self, target: str, writer: FixtureWriter, timeout: float = 30.0) -> None:
        self.client = httpx.AsyncClient(base_url=target.rstrip("/"), follow_redirects=False, timeout=timeout)
        self.writer = writer

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = (await read_body(receive)).data
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]
                   if k.decode("latin-1").lower() not in HOP_BY_HOP]
        path = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        url = path + (f"?{scope['query_string'].decode('latin-1')}" if scope.get("query_string") else "")
        try:
            response = await self.client.request(scope["method"], url, headers=headers, content=body)
        except httpx.HTTPError as exc:
            await respond(send, 502, [(b"content-type", b"text/plain")], f"target unreachable: {exc}".encode())
            return
        if not path.startswith("/__harness/"):
            self.writer.write(response.request, body, response)
        out_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.multi_items()
                       if k.lower() not in HOP_BY_HOP]
        await respond(send, response.status_code, out_headers, response.content)


def recording_proxy(target: str, out: Path, config: ConformConfig) -> RecordingProxy:
    writer = FixtureWriter(out, target, Redactor(config), OperationIndex(config))
    return RecordingProxy(target, writer)
