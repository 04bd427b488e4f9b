"""`harness proxy`: a pass-through in front of a target that judges every exchange against the contract.

The forwarding path (`forward`) answers the client first; the judgement (`judge`: the spec's rules, the rules'
single-response judgements and each API's passive rules) runs on a thread of its own, so a slow rule never
delays an answer. On exit the reports are written (`reports`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from harness.conformance.apis import for_api
from harness.conformance.config import ConformConfig
from harness.conformance.proxy.forward import Exchange, Forwarder
from harness.conformance.proxy.judge import Judge, Violation
from harness.conformance.proxy.reports import har_entry, write_har, write_json, write_junit

_STOP = object()


class ProxyRun:
    def __init__(self, config: ConformConfig, target: str, on_violation: Callable[[Violation], None] = print,
                 insecure: bool = False, keep_har: bool = False) -> None:
        self.config, self.target, self.insecure = config, target.rstrip("/"), insecure
        self.judge = Judge(config, config.profile, keys=self._keys)
        self.forwarder = Forwarder(self.target, self._observe, insecure=insecure)
        self.on_violation = on_violation
        self.har: list[dict[str, Any]] | None = [] if keep_har else None
        self._keys_cache: list[dict[str, Any]] | None = None
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._worker = threading.Thread(target=self._judge_all, name="harness-proxy-judge", daemon=True)
        self._worker.start()

    def _observe(self, exchange: Exchange) -> None:
        self._queue.put(exchange)

    def _judge_all(self) -> None:
        while (exchange := self._queue.get()) is not _STOP:
            try:
                self._judge_one(exchange)
            except Exception as exc:  # a judging bug must not stop the proxy: it is reported as one
                self.on_violation(Violation("judging_failed", exchange.path, f"{type(exc).__name__}: {exc}", ""))

    def _judge_one(self, exchange: Exchange) -> None:
        if self.har is not None:
            self.har.append(har_entry(exchange, self.target))
        if exchange.error or exchange.truncated:  # nothing whole to judge
            self.judge.count_unjudged()
            return
        request = httpx.Request(exchange.method, self.target + exchange.path,
                                headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in
                                         exchange.request_headers], content=exchange.request_body)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in exchange.response_headers
                   if k.lower() not in (b"content-encoding", b"content-length")]
        response = httpx.Response(exchange.status, headers=headers, content=exchange.decoded_body, request=request)
        response.read()
        response.elapsed = timedelta(milliseconds=exchange.elapsed_ms)
        for violation in self.judge.judge(request, response):
            self.on_violation(violation)

    def _keys(self, refresh: bool) -> list[dict[str, Any]]:
        """The target's published key sets (each API's `key_paths`), fetched once and again when asked."""
        if self._keys_cache is None or refresh:
            documents = []
            with httpx.Client(base_url=self.target, verify=not self.insecure, timeout=10) as http:
                for api in self.config.apis:
                    for path in for_api(api).key_paths(getattr(self.config, api)):
                        try:
                            answer = http.get(path)
                            if answer.status_code == 200:
                                documents.append(answer.json())
                        except (httpx.HTTPError, ValueError):
                            continue
            self._keys_cache = documents
        return self._keys_cache

    def finish(self) -> None:
        """Judge what is still queued, then stop the judging thread."""
        self._queue.put(_STOP)
        self._worker.join(timeout=60)

    def write(self, json_path: Path | None = None, junit_path: Path | None = None, har_path: Path | None = None
              ) -> None:
        if json_path:
            write_json(self.judge, json_path)
        if junit_path:
            write_junit(self.judge, junit_path)
        if har_path and self.har is not None:
            write_har(self.har, har_path)
