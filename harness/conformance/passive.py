"""Passive rules: judgements of exchanges a proxy saw, not of requests a run made (`harness proxy`).

A passive rule is `def rule_name(seen, memory) -> None` that raises `AssertionError` (use `expect`) when the
exchange (with what the rule remembered of earlier ones, in `memory`) breaks the rule. It is registered for the
operations it judges (none named: every exchange of any API, e.g. a redirect from a page outside the contract).
A passive rule that checks what an active rule checks has that rule's name, so a finding reads the same in both.
Its docstring's first line says the rule and a `Source:` line cites what it enforces.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx

from harness.conformance.rules import BOTH


@dataclass
class Seen:
    """One exchange, decoded once: the operation it was found to be (`""` for none) and both messages."""

    api: str
    operation: str
    request: httpx.Request
    response: httpx.Response
    spec_operation: dict[str, Any] | None = None
    # the API's whole spec, as the judge loaded it once (rules read it, never change it)
    spec: dict[str, Any] = field(default_factory=dict)
    # the API's table of the conformance config: the credentials a rule may know (a client's secret, a gateway
    # credential's), as `harness conform` uses them
    section: Any = None
    # schemathesis's operation, which validates a response against the spec
    validator: Any = None
    # the target's published keys (JWKS documents); `keys(True)` fetches them again (after a rotation)
    keys: Callable[[bool], list[dict[str, Any]]] = lambda refresh: []
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def form(self) -> dict[str, str]:
        """The request's form fields, or its JSON object's string members (Laravel reads both alike)."""
        if "form" not in self._cache:
            media = self.request.headers.get("content-type", "").split(";")[0].strip().lower()
            text = self.request.content.decode("utf-8", errors="replace")
            found: dict[str, str] = {}
            if media == "application/x-www-form-urlencoded":
                found = dict(parse_qsl(text, keep_blank_values=True))
            elif media.endswith("json"):
                try:
                    parsed = json.loads(text)
                except ValueError:
                    parsed = None
                if isinstance(parsed, dict):
                    found = {k: v for k, v in parsed.items() if isinstance(v, str)}
            self._cache["form"] = found
        return self._cache["form"]

    @property
    def params(self) -> dict[str, str]:
        return dict(self.request.url.params)

    def request_json(self) -> Any:
        try:
            return json.loads(self.request.content)
        except ValueError:
            return None

    def json(self) -> Any:
        """The response's JSON body; None when it is not JSON."""
        if "json" not in self._cache:
            try:
                self._cache["json"] = json.loads(self.response.content)
            except ValueError:
                self._cache["json"] = None
        return self._cache["json"]

    @property
    def bearer(self) -> str | None:
        scheme, _, token = self.request.headers.get("authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None


PassiveFunc = Callable[[Seen, dict[str, Any]], None]


@dataclass(frozen=True)
class PassiveRule:
    name: str
    api: str
    func: PassiveFunc
    operations: frozenset[str] = frozenset()  # empty: every exchange
    profiles: frozenset[str] = BOTH

    def judges(self, seen: Seen) -> bool:
        return not self.operations or (seen.api == self.api and seen.operation in self.operations)

    @property
    def summary(self) -> str:
        return (self.func.__doc__ or "").strip().splitlines()[0] if self.func.__doc__ else ""


PASSIVE: list[PassiveRule] = []


def passive(api: str, *operations: str, profiles: Iterable[str] = BOTH) -> Callable[[PassiveFunc], PassiveFunc]:
    """Register a passive rule of `api` for the exchanges of `operations` (none: every exchange)."""

    def register(func: PassiveFunc) -> PassiveFunc:
        PASSIVE.append(PassiveRule(func.__name__, api, func, frozenset(operations), frozenset(profiles)))
        return func

    return register


def passive_rules_for(api: str) -> list[PassiveRule]:
    """The passive rules of `api`, registered by importing the module its conformance half names."""
    from harness.conformance.apis import for_api

    module = for_api(api).passive
    if module:
        importlib.import_module(module)
    return [r for r in PASSIVE if r.api == api]
