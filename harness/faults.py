"""Faults armed through `/__harness/faults`: an operation (or a path) answers with a status and a body, after a
delay, or drops the connection, for the next N calls, with a probability, or until cleared; `--latency MS` delays
every answer. The faults live in the store, so every worker applies the same ones and a fault for one call fires
once whichever worker takes the call.

`FaultInjector` runs right after connexion's routing and the API's own layer (the Sunbird gateway), before
security and validation: a fault replaces the operation's answer, not the gateway's checks.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from harness.clock import SharedVersion
from harness.routing import route_of
from harness.store import Store

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]
VERSION = "faults"  # the name of its shared number in the store
DDL = """CREATE TABLE IF NOT EXISTS harness_faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT, fault TEXT NOT NULL, remaining INTEGER, fired INTEGER NOT NULL DEFAULT 0)"""


@dataclass(frozen=True)
class Fault:
    id: int
    spec: dict[str, Any]

    def matches(self, operation: str | None, method: str, path: str) -> bool:
        if "operation" in self.spec and self.spec["operation"] != operation:
            return False
        if "path" in self.spec and not fnmatch.fnmatchcase(path, self.spec["path"]):
            return False
        return "method" not in self.spec or self.spec["method"].upper() == method


class Faults:
    """The armed faults of one state directory; the list is re-read only when another worker changed it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.transaction() as tx:
            tx.execute(DDL)
        self._version = SharedVersion(store.shared_number(VERSION))
        self._armed: list[Fault] = []

    def armed(self) -> list[Fault]:
        if self._version.changed():
            rows = self.store.query("SELECT id, fault FROM harness_faults ORDER BY id")
            self._armed = [Fault(row["id"], json.loads(row["fault"])) for row in rows]
        return self._armed

    def _changed(self) -> None:
        self._version.bump()

    def arm(self, spec: dict[str, Any]) -> dict[str, Any]:
        with self.store.transaction() as tx:
            fault_id = tx.execute("INSERT INTO harness_faults (fault, remaining) VALUES (?, ?) RETURNING id",
                                  (json.dumps(spec), spec.get("count"))).fetchone()[0]
        self._changed()
        return self.describe(fault_id) or {}

    def describe(self, fault_id: int | None) -> dict[str, Any] | None:
        row = self.store.one("SELECT id, fault, remaining, fired FROM harness_faults WHERE id = ?", (fault_id,))
        return None if row is None else _described(row)

    def listed(self) -> list[dict[str, Any]]:
        rows = self.store.query("SELECT id, fault, remaining, fired FROM harness_faults ORDER BY id")
        return [_described(row) for row in rows]

    def clear(self) -> int:
        cleared = self.store.execute("DELETE FROM harness_faults")
        self._changed()
        return cleared

    def take(self, operation: str | None, method: str, path: str) -> Fault | None:
        """The first armed fault for this call that fires (its probability, its remaining count), spent."""
        for fault in self.armed():
            if not fault.matches(operation, method, path):
                continue
            if random.random() >= fault.spec.get("probability", 1.0):
                continue
            with self.store.transaction() as tx:
                spent = tx.execute("UPDATE harness_faults SET fired = fired + 1, remaining = remaining - 1 "
                                   "WHERE id = ? AND (remaining IS NULL OR remaining > 0)", (fault.id,)).rowcount
                gone = spent and tx.execute("DELETE FROM harness_faults WHERE id = ? AND remaining = 0",
                                            (fault.id,)).rowcount
            if not spent:  # another worker used it up meanwhile: this list is stale
                self._version.forget()
                continue
            if gone:
                self._changed()
            return fault
        return None


def _described(row: Any) -> dict[str, Any]:
    return {"id": row["id"], "fault": json.loads(row["fault"]), "remaining": row["remaining"], "fired": row["fired"]}


class FaultInjector:
    """connexion middleware (BEFORE_SECURITY, after the route recorder)."""

    def __init__(self, app: ASGIApp, faults: Faults, latency_ms: int,
                 on_error: Callable[[Any, Exception], Awaitable[Any]]) -> None:
        self.app, self.faults, self.latency, self.on_error = app, faults, latency_ms / 1000, on_error

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.latency:
            await asyncio.sleep(self.latency)
        fault = None
        if self.faults.armed():
            route = route_of(scope)
            fault = self.faults.take(route.operation_id if route else None, scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        spec = fault.spec
        if spec.get("delay_ms"):
            await asyncio.sleep(spec["delay_ms"] / 1000)
        if spec.get("drop_connection"):
            # headers promising a body that never comes: uvicorn closes the connection when the app returns
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-length", b"1024"), (b"content-type", b"application/json")]})
            return
        if "status" not in spec:
            await self.app(scope, receive, send)
            return
        await self._answer(scope, receive, send, spec)

    async def _answer(self, scope: Scope, receive: Any, send: Any, spec: dict[str, Any]) -> None:
        from starlette.exceptions import HTTPException
        from starlette.requests import Request
        from starlette.responses import JSONResponse, Response

        status = spec["status"]
        if "body" in spec:
            body = spec["body"]
            response: Response = (Response(body, status_code=status, media_type="text/plain")
                                  if isinstance(body, str) else JSONResponse(body, status_code=status))
        else:
            response = await self.on_error(Request(scope, receive), HTTPException(status_code=status))
            response.status_code = status
        for header in spec.get("headers", []):
            response.headers[header["name"]] = header["value"]
        await response(scope, receive, send)
