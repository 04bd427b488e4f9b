"""`harness diff`: the same generated cases and the recorded fixtures sent to two deployments, and where their
answers differ.

Cases come from schemathesis over our spec with one seed, generated once and sent to A then to B in the same
order (so that state-changing cases leave both sides alike). Each side gets the credentials a client gets there
(its conformance client's `identity_for`/`token_for`). Answers are compared on what a client depends on: the
status, the media type, the headers that carry meaning, and the body's shape and values, with what legitimately
differs between two deployments masked: tokens, secrets, ids, timestamps, opaque strings and each side's own
base URL.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
import hypothesis
import requests
import schemathesis

from harness.conformance import replay
from harness.conformance.apis import for_api
from harness.conformance.config import ConformConfig
from harness.conformance.schema_phase import mock_only_operation_ids
from harness.conformance.transport import Transport
from harness.fixtures import load_fixtures
from harness.specs import load_spec

HEADERS = ("cache-control", "pragma", "www-authenticate", "location", "allow")
MASKED_KEYS = frozenset({"id", "jti", "msgid", "resmsgid", "ets", "ts", "iat", "exp", "nbf", "auth_time", "secret",
                         "token", "access_token", "refresh_token", "id_token", "code", "session_state", "state", "sub",
                         "n", "e", "kid", "user_id"})
SECONDS_APART = 5  # how far apart in time the two sides may answer the same case
_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_OPAQUE = re.compile(r"^[A-Za-z0-9_+/=.-]{20,}$")
_CODE_IN_QUERY = re.compile(r"([?&](?:code|state)=)[^&#]*")


@dataclass
class Difference:
    operation: str
    what: str
    a: Any
    b: Any
    cases: int = 1


@dataclass
class DiffResult:
    cases: int = 0
    differences: list[Difference] = field(default_factory=list)
    operations: list[str] = field(default_factory=list)
    fixtures: int = 0  # of the cases, the recorded fixtures both sides could be sent

    @property
    def agree(self) -> bool:
        return not self.differences

    def as_json(self) -> dict[str, Any]:
        return {"agree": self.agree, "cases": self.cases, "fixtures": self.fixtures,
                "differences": [{"operation": d.operation, "what": d.what, "a": d.a, "b": d.b, "cases": d.cases}
                                for d in self.differences]}


def mask(value: Any, bases: tuple[str, ...], key: str = "") -> Any:
    """`value` with what two faithful deployments legitimately differ in replaced by its kind."""
    if isinstance(value, dict):
        return {k: mask(v, bases, k) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(item, bases, key) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if key in MASKED_KEYS:
        return f"<{type(value).__name__}>"
    if isinstance(value, int | float):
        return "<time>" if 1e9 <= value < 1e10 or 1e12 <= value < 1e13 else value
    if isinstance(value, str):
        for base in bases:
            value = value.replace(base, "<base>")
        if _JWT.match(value):
            return "<jwt>"
        if _UUID.match(value):
            return "<uuid>"
        if _TIME.match(value):
            return "<time>"
        if _OPAQUE.match(value):
            return "<opaque>"
    return value


def answer_view(response: requests.Response | httpx.Response, *bases: str) -> dict[str, Any]:
    """What is compared of an answer; `bases` are the side's own URLs (longest first), masked as `<base>`."""
    bases = tuple(sorted(bases, key=len, reverse=True))
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        body: Any = response.json()
    except ValueError:
        body = f"[{len(response.content)} bytes]" if media == "text/html" else response.text[:2000]
    headers = {}
    for name in HEADERS:
        if name in response.headers:
            text = response.headers[name]
            for base in bases:
                text = text.replace(base, "<base>")
            headers[name] = _CODE_IN_QUERY.sub(r"\1<masked>", text) if name == "location" else text
    return {"status": response.status_code, "content_type": media, "headers": headers,
            "body": mask(body, bases)}


def _same_leaf(key: str, a: Any, b: Any) -> bool:
    """Equal, or both a count of seconds left (`expires_in`) read a moment apart on each side."""
    if key.endswith("expires_in") and all(isinstance(v, int) and not isinstance(v, bool) for v in (a, b)):
        return abs(a - b) <= SECONDS_APART
    return a == b


def _first_difference(a: Any, b: Any, where: str = "body") -> tuple[str, Any, Any] | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                return f"{where}/{key}", a.get(key, "<absent>"), b.get(key, "<absent>")
            found = _first_difference(a[key], b[key], f"{where}/{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{where} (length)", len(a), len(b)
        for index, (left, right) in enumerate(zip(a, b, strict=True)):
            found = _first_difference(left, right, f"{where}/{index}")
            if found:
                return found
        return None
    return None if _same_leaf(where.rsplit("/", 1)[-1], a, b) else (where, a, b)


def compare(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    found = [(what, a[what], b[what]) for what in ("status", "content_type") if a[what] != b[what]]
    for name in sorted(set(a["headers"]) | set(b["headers"])):
        left, right = a["headers"].get(name, "<absent>"), b["headers"].get(name, "<absent>")
        if left != right:
            found.append((f"header {name}", left, right))
    body = _first_difference(a["body"], b["body"])
    if body:
        found.append(body)
    return found


class Side:
    """One deployment: its conformance clients (credentials as a client gets them) and an HTTP session."""

    def __init__(self, config: ConformConfig, api: str) -> None:
        self.config = config
        self.transport = Transport(config.base_url, config.request_timeout)
        self.client = for_api(api).client(config, self.transport)
        self.http = requests.Session()

    def send(self, case: Any, base_url: str) -> requests.Response:
        identity = self.client.identity_for(case)
        headers = {"Authorization": f"Bearer {self.client.token_for(identity)}"} if identity else None
        kwargs = case.as_transport_kwargs(base_url=base_url, headers=headers)
        kwargs.pop("cookies", None)
        return self.http.request(**kwargs, allow_redirects=False, timeout=self.config.request_timeout)

    def replay(self, fixture: Any) -> dict[str, Any] | None:
        """The answer to a fixture's request here (after a login where the recording shows one), or None."""
        transport = self.client.transport_for(fixture.request.get("path", "/"))
        try:
            response = replay.send(fixture, transport, self.client.variables())
            if replay.needs_a_user(fixture, response):
                response = self.client.browse(str(response.request.url)) or response
        except (KeyError, httpx.HTTPError, RuntimeError):
            return None
        return answer_view(response, transport.base_url, self.config.base_url)

    def close(self) -> None:
        self.http.close()
        self.transport.close()


def _collect(strategy: Any, max_examples: int, seed: int) -> list[Any]:
    found: list[Any] = []

    @hypothesis.settings(max_examples=max_examples, database=None, deadline=None,
                         phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.seed(seed)
    @hypothesis.given(strategy)
    def collect(case: Any) -> None:
        found.append(case)

    collect()
    return found


def generated_cases(schema: Any, max_examples: int, seed: int) -> list[tuple[str, Any]]:
    """(operationId, case) for every operation, `max_examples` each, the same for the same seed."""
    cases: list[tuple[str, Any]] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        found = _collect(operation.as_strategy(), max_examples, seed)
        operation_id = (operation.definition.raw or {}).get("operationId", operation.label)
        cases += [(operation_id, case) for case in found]
    return cases


def diff(api: str, a: ConformConfig, b: ConformConfig, max_examples: int = 10, seed: int = 0,
         fixtures: bool = True) -> DiffResult:
    """Generated cases, then the recorded fixtures (requests filled with each side's own values), to both."""
    result = DiffResult()
    found: dict[tuple[str, str], Difference] = {}
    sides = Side(a, api), Side(b, api)
    try:
        targets = zip(sides[0].client.schema_targets(), sides[1].client.schema_targets(), strict=True)
        for (base_a, narrow), (base_b, _) in targets:
            raw = load_spec(api)
            schema = schemathesis.openapi.from_dict(raw)
            hidden = mock_only_operation_ids(raw)
            schema = narrow(schema.exclude(operation_id=hidden) if hidden else schema)
            for operation_id, case in generated_cases(schema, max_examples, seed):
                views = [answer_view(side.send(case, base), base, side.config.base_url)
                         for side, base in zip(sides, (base_a, base_b), strict=True)]
                _tally(result, found, operation_id, compare(*views))
        if fixtures:
            for fixture in load_fixtures(api):
                views = [side.replay(fixture) for side in sides]
                if None in views:  # a fixture one side cannot even send (a variable it has no value for)
                    continue
                result.fixtures += 1
                _tally(result, found, fixture.operation, compare(*views))
    finally:
        for side in sides:
            side.close()
    result.differences = sorted(found.values(), key=lambda d: (d.operation, d.what))
    return result


def _tally(result: DiffResult, found: dict[tuple[str, str], Difference], operation_id: str,
           differences: list[tuple[str, Any, Any]]) -> None:
    result.cases += 1
    if operation_id not in result.operations:
        result.operations.append(operation_id)
    for what, left, right in differences:
        key = (operation_id, what)
        if key in found:
            found[key].cases += 1
        else:
            found[key] = Difference(operation_id, what, left, right)


def write_json(result: DiffResult, path: Any) -> None:
    path.write_text(json.dumps(result.as_json(), indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def write_junit(result: DiffResult, path: Any) -> None:
    """One testcase per operation compared: a failure lists where the two sides differ."""
    from xml.etree import ElementTree

    by_operation: dict[str, list[Difference]] = {}
    for difference in result.differences:
        by_operation.setdefault(difference.operation, []).append(difference)
    root = ElementTree.Element("testsuites")
    suite = ElementTree.SubElement(root, "testsuite", name="harness diff", tests=str(len(result.operations)),
                                   failures=str(len(by_operation)))
    for operation in result.operations:
        case = ElementTree.SubElement(suite, "testcase", classname="diff", name=operation)
        if operation in by_operation:
            found = by_operation[operation]
            failure = ElementTree.SubElement(case, "failure", message=f"{len(found)} difference(s)")
            failure.text = "\n".join(f"{d.what}: a={d.a!r} b={d.b!r} ({d.cases} case(s))" for d in found)
    ElementTree.indent(root)
    ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
