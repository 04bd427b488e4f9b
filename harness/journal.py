"""The request journal: what the app sent and what it got, for every API request, newest first
(`GET /__harness/requests`). A bounded ring in the store, so every worker writes to and reads the same one.

Secrets never reach it: the `Authorization`, `Cookie` and `Set-Cookie` values, and every body field or query
parameter that carries a password, a client or credential secret, a code, a CSRF token or an access, refresh or
device token are replaced by `[redacted]` before the entry is written; HTML pages (which carry the session's
CSRF token) are kept as their size only.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from harness.redaction import redact, redact_header, redacted_body
from harness.routing import slot_of
from harness.store import Store

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

CAPACITY = 1000  # entries kept; older ones are dropped
MAX_BODY = 64 * 1024  # bytes of each body kept (the rest is cut)
FLUSH_SECONDS = 0.02  # the longest an answered exchange waits in its process before it is in the store
DDL = """CREATE TABLE IF NOT EXISTS harness_journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT, seen REAL NOT NULL, operation TEXT, method TEXT NOT NULL,
    path TEXT NOT NULL, status INTEGER NOT NULL, entry TEXT NOT NULL)"""


def _body(content_type: str, raw: bytes) -> Any:
    """The body as the journal keeps it: JSON and forms decoded (and redacted), other text as is, binary noted."""
    return redacted_body(content_type, raw, MAX_BODY)


def _headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        text = redact_header(key, value.decode("latin-1"))
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def _content_type(headers: dict[str, str]) -> str:
    return headers.get("content-type", "")


class JournalStore:
    """The ring in the store. Entries are written in batches by a thread of each process, at most
    `FLUSH_SECONDS` after their answer; `settle` waits that long, so a read after it sees every exchange answered
    before it, whichever worker answered (one store write per batch instead of one per request)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.transaction() as tx:
            tx.execute(DDL)
        self._pending: list[tuple[float, str | None, str, str, int, str]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._flusher: threading.Thread | None = None

    def write(self, operation: str | None, method: str, path: str, status: int, entry: dict[str, Any]) -> None:
        # ordered by the wall clock: batches of several workers interleave, and the server's clock may go back
        row = (time.time(), operation, method, path, status, json.dumps(entry, default=str))
        with self._lock:
            self._pending.append(row)
            if self._flusher is None or not self._flusher.is_alive():
                self._flusher = threading.Thread(target=self._flush_forever, name="harness-journal", daemon=True)
                self._flusher.start()
        self._wake.set()

    def _flush_forever(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(FLUSH_SECONDS / 2)  # gather what arrives meanwhile into one transaction
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        """Write this process's pending entries now (and drop what falls out of the ring)."""
        with self._lock:
            rows, self._pending = self._pending, []
        if not rows:
            return
        with self.store.transaction() as tx:
            tx.executemany("INSERT INTO harness_journal (seen, operation, method, path, status, entry) "
                           "VALUES (?, ?, ?, ?, ?, ?)", rows)
            last = tx.execute("SELECT MAX(id) FROM harness_journal").fetchone()[0] or 0
            tx.execute("DELETE FROM harness_journal WHERE id <= ?", (last - CAPACITY,))

    async def settle(self) -> None:
        """Write this process's entries and wait out the other workers' batches of exchanges answered before now
        (without blocking the event loop): what `read` and `clear` then see is complete."""
        self.flush()
        await asyncio.sleep(FLUSH_SECONDS)

    def read(self, operation: str | None = None, method: str | None = None, path: str | None = None,
             limit: int = 100) -> list[dict[str, Any]]:
        where, params = [], []
        for column, value in (("operation", operation), ("method", method and method.upper()), ("path", path)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        sql = "SELECT entry FROM harness_journal" + (" WHERE " + " AND ".join(where) if where else "")
        rows = self.store.query(sql + " ORDER BY seen DESC, id DESC LIMIT ?", (*params, limit))
        return [json.loads(row["entry"]) for row in rows]

    def clear(self) -> int:
        self.flush()
        return self.store.execute("DELETE FROM harness_journal")


class Journal:
    """ASGI middleware around the APIs: records each exchange once its answer is complete, before the last
    byte goes out, so a client that has its answer finds it in the journal from any worker."""

    def __init__(self, app: ASGIApp, journal: JournalStore, now: Callable[[], float]) -> None:
        self.app, self.journal, self.now = app, journal, now

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received: list[bytes] = []
        size = 0
        answer: dict[str, Any] = {}
        sent: list[bytes] = []

        async def tee_receive() -> dict[str, Any]:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request" and size < MAX_BODY:
                chunk = message.get("body", b"")[: MAX_BODY - size]
                received.append(chunk)
                size += len(chunk)
            return message

        async def tee_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer.update(status=message["status"], headers=list(message.get("headers", [])))
            elif message["type"] == "http.response.body":
                if sum(map(len, sent)) < MAX_BODY:
                    sent.append(message.get("body", b""))
                if not message.get("more_body", False):
                    answer["recorded"] = True
                    self._record(scope, b"".join(received), answer, b"".join(sent))
            await send(message)

        await self.app(scope, tee_receive, tee_send)
        if answer and not answer.get("recorded"):  # the answer never completed: a dropped connection
            self._record(scope, b"".join(received), {**answer, "status": 0, "dropped": True}, b"".join(sent))

    def _record(self, scope: Scope, request_body: bytes, answer: dict[str, Any], response_body: bytes) -> None:
        route = slot_of(scope).route
        operation = route.operation_id if route else None
        query = scope.get("query_string", b"").decode("latin-1")
        request_headers = _headers(scope.get("headers", []))
        response_headers = _headers(answer.get("headers", []))
        entry = {
            "operation": operation,
            "api": route.api if route else None,
            "method": scope["method"],
            "path": scope["path"],
            "query": redact(dict(parse_qsl(query, keep_blank_values=True))) if query else {},
            "status": answer.get("status", 0),
            **({"dropped": True} if answer.get("dropped") else {}),
            "at": self.now(),
            "request": {"headers": request_headers, "body": _body(_content_type(request_headers), request_body)},
            "response": {"headers": response_headers,
                         "body": _body(_content_type(response_headers), response_body)},
        }
        if query:
            entry["url"] = f"{scope['path']}?{urlencode(entry['query'])}"
        self.journal.write(operation, scope["method"], scope["path"], entry["status"], entry)
