"""The proxy's judgement of each exchange: the spec's own rules (status, content type, body schema, what a
request may be), the rules' single-response judgements (`each_response`), and each API's passive rules.

A violation is the target's: a request the spec does not allow, answered with a documented 4xx, is fine;
answered 2xx, it is not. Rules follow the run's profile as in `harness conform`.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx
import schemathesis

from harness.conformance.config import ConformConfig
from harness.conformance.operations import OperationIndex
from harness.conformance.passive import PassiveRule, Seen, passive_rules_for
from harness.conformance.proxy import spec_rules
from harness.conformance.rules import rules_for, spec_ops
from harness.redaction import REDACTED, SECRET_FIELDS, redact_header, redact_query, redacted_text
from harness.specs import load_spec

KeySource = Callable[[bool], list[dict[str, Any]]]


@dataclass(frozen=True)
class Violation:
    rule: str
    operation: str
    message: str
    curl: str


def _each_response(rule: Any) -> Callable[[Seen, dict[str, Any]], None]:
    def judge(seen: Seen, memory: dict[str, Any]) -> None:
        rule.each_response(seen.response)

    judge.__doc__ = rule.func.__doc__
    return judge


class Judge:
    def __init__(self, config: ConformConfig, profile: str = "default", keys: KeySource = lambda refresh: []) -> None:
        self.index = OperationIndex(config)
        self.keys = keys
        self.operations: dict[tuple[str, str], dict[str, Any]] = {}
        self.validators: dict[tuple[str, str], Any] = {}
        self.specs: dict[str, dict[str, Any]] = {}
        self.sections = {api: getattr(config, api) for api in config.apis}
        self.rules: list[PassiveRule] = list(spec_rules.RULES)
        for api in config.apis:
            spec = self.specs[api] = load_spec(api)
            schema = schemathesis.openapi.from_dict(spec)
            for op in spec_ops(spec):
                self.operations[(api, op.operation_id)] = op.spec or {}
                self.validators[(api, op.operation_id)] = schema[op.path][op.method]
            for rule in rules_for(api):
                if rule.each_response is not None and rule.judges_under(profile):
                    chosen = frozenset(op.operation_id for op in rule.selector(spec_ops(spec)) if not op.missing)
                    self.rules.append(PassiveRule(rule.name, api, _each_response(rule), chosen))
            self.rules += [r for r in passive_rules_for(api) if profile in r.profiles]
        self.memory: dict[str, dict[str, Any]] = defaultdict(dict)
        self.checked: dict[tuple[str, str], int] = defaultdict(int)  # (rule, operation) -> exchanges judged
        self.violations: list[Violation] = []
        self.exchanges = 0
        self._lock = threading.Lock()

    def count_unjudged(self) -> None:
        """An exchange that passed without a judgement (the target unreachable, a body too large to judge)."""
        with self._lock:
            self.exchanges += 1

    def judge(self, request: httpx.Request, response: httpx.Response) -> list[Violation]:
        api, operation = self.index.find(request.method, request.url.path)
        seen = Seen(api, operation, request, response, self.operations.get((api, operation)),
                    spec=self.specs.get(api, {}), validator=self.validators.get((api, operation)), keys=self.keys)
        label = operation or f"{request.method} {request.url.path}"
        found = []
        with self._lock:
            self.exchanges += 1
            for rule in self.rules:
                if not rule.judges(seen):
                    continue
                self.checked[(rule.name, label)] += 1
                seen.section = self.sections.get(rule.api or api)  # the rule's own API's credentials
                try:
                    rule.func(seen, self.memory[rule.name])
                except AssertionError as exc:
                    message = _without(secrets_of(seen), str(exc) or rule.summary)
                    found.append(Violation(rule.name, label, message, curl(request)))
                except (ValueError, KeyError, TypeError, AttributeError) as exc:  # e.g. a token that is no JWT
                    message = _without(secrets_of(seen), f"the answer breaks the rule's premise: {exc}")
                    found.append(Violation(rule.name, label, message, curl(request)))
            self.violations += found
        return found


def secrets_of(seen: Seen) -> set[str]:
    """Every secret value the exchange carries (bearer, secret fields of either body, a code in a redirect), so
    that no message quoting a body or a header shows one."""
    found: set[str] = set()
    if seen.bearer:
        found.add(seen.bearer)
    found.update(v for k, v in {**seen.params, **seen.form}.items() if k in SECRET_FIELDS and v)

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in SECRET_FIELDS and isinstance(item, str) and item:
                    found.add(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(seen.json())
    walk(seen.request_json())
    location = seen.response.headers.get("location", "")
    found.update(v for k, v in parse_qsl(location.partition("?")[2]) if k in SECRET_FIELDS and v)
    return {value for value in found if len(value) >= 4}


def _without(secrets: set[str], message: str) -> str:
    for value in sorted(secrets, key=len, reverse=True):
        message = message.replace(value, REDACTED)
    return message


def curl(request: httpx.Request) -> str:
    """A command that sends the request again, with every secret redacted."""
    parts = ["curl", "-X", request.method, _quote(redact_query(str(request.url)))]
    for name, value in request.headers.multi_items():
        if name.lower() not in ("host", "content-length", "accept-encoding", "connection", "user-agent"):
            parts += ["-H", _quote(f"{name}: {redact_header(name, value)}")]
    if request.content:
        parts += ["--data-raw", _quote(redacted_text(request.headers.get("content-type", ""), request.content))]
    return " ".join(parts)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"

