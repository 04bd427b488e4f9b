"""Phase 3: send every recorded exchange (`fixtures/<api>/*.yaml`) to the target and compare the answer
with the recording by structure: status, media type, headers the recording names, and the body's keys and
value types. Tokens, ids, timestamps and placeholders are matched by shape; error codes and messages by value.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from harness.conformance.results import Outcome
from harness.conformance.transport import Transport, curl_command
from harness.fixtures import (
    Fixture,
    load_fixture,
    load_fixtures,
    resolve_pointer,
    shape_differences,
)
from harness.specs import load_spec, operation_ids

# Keys whose recorded string values are the contract itself (error codes and messages), not data.
EXACT_KEYS = frozenset({"status", "err", "errmsg", "error", "error_description", "hint", "message", "token_type",
                        "ver", "id"})
VariableSources = dict[str, Any]  # name → value, or a callable giving a fresh value
# Plays the user's browser from an authorization URL to the redirect back to the client (None: no login).
Browser = Callable[[str], httpx.Response | None]


def _media(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _exact_pointers(value: Any, placeholders: set[str], pointer: str = "") -> set[str]:
    """Body pointers of string leaves under an EXACT_KEYS key that are not placeholders."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{pointer}/{key}"
            if isinstance(item, str) and key in EXACT_KEYS and f"/response/body{child}" not in placeholders:
                found.add(child)
            found |= _exact_pointers(item, placeholders, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found |= _exact_pointers(item, placeholders, f"{pointer}/{index}")
    return found


# Documented alternatives: the seeds' envelope shows `ts` where the service sends `ets`
# (reference/sunbird-api-manager.md, "Envelope"; fixtures/sunbird/README.md).
KEY_ALIASES = {"ts": "ets"}


def _expected_body(fixture: Fixture, actual: Any) -> Any:
    """The recorded body as a pattern: placeholders admit any value (None), aliases the documented key."""
    expected = copy.deepcopy(fixture.response.get("body"))
    for pointer in fixture.placeholders:
        if not pointer.startswith("/response/body/"):
            continue
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[3:]]
        try:
            container = resolve_pointer(expected, "/" + "/".join(parents)) if parents else expected
        except (KeyError, IndexError, TypeError):
            continue
        if isinstance(container, dict) and last in container:
            container[last] = None
    if isinstance(expected, dict) and isinstance(actual, dict):
        for recorded, alias in KEY_ALIASES.items():
            if recorded in expected and recorded not in actual and alias in actual:
                expected = {alias if k == recorded else k: v for k, v in expected.items()}
    return expected


def _header_differences(fixture: Fixture, response: httpx.Response) -> list[str]:
    problems = []
    for name, expected in (fixture.response.get("headers") or {}).items():
        actual = response.headers.get(name)
        placeholder = fixture.is_placeholder(f"/response/headers/{name}")
        if actual is None:
            problems.append(f"header {name}: missing")
        elif name.lower() == "content-type":
            if _media(actual) != _media(str(expected)):
                problems.append(f"header Content-Type: expected {_media(str(expected))!r}, got {_media(actual)!r}")
        elif name.lower() == "location":
            want, got = urlsplit(str(expected)), urlsplit(actual)
            if (want.netloc, want.path) != (got.netloc, got.path) and not placeholder:
                problems.append(f"header Location: expected {want.netloc}{want.path}, got {got.netloc}{got.path}")
            missing = {k for k, _ in parse_qsl(want.query)} - {k for k, _ in parse_qsl(got.query)}
            if missing:
                problems.append(f"header Location: query lacks {', '.join(sorted(missing))}")
        elif not placeholder and str(expected) != actual:
            problems.append(f"header {name}: expected {expected!r}, got {actual!r}")
    return problems


def compare(fixture: Fixture, response: httpx.Response) -> list[str]:
    """Everything in which `response` differs in structure from the recording."""
    problems = []
    if response.status_code != fixture.response["status"]:
        problems.append(f"status: expected {fixture.response['status']}, got {response.status_code}")
    problems += _header_differences(fixture, response)
    expected = fixture.response.get("body")
    if isinstance(expected, dict | list):
        try:
            actual = response.json()
        except ValueError:
            return [*problems, f"body: expected JSON, got {response.text[:120]!r}"]
        pattern = _expected_body(fixture, actual)
        exact = frozenset(_exact_pointers(pattern, set(fixture.placeholders)))
        problems += [f"body{p}" for p in shape_differences(pattern, actual, exact=exact)]
    elif isinstance(expected, str) and expected and not response.text:
        problems.append("body: expected content, got none")
    return problems


def _fill(fixture: Fixture, sources: VariableSources) -> dict[str, Any]:
    values = {}
    for name in sorted(fixture.variables()):
        if name not in sources:
            raise KeyError(f"fixture uses {{{{{name}}}}}, which the replayer does not know")
        source = sources[name]
        values[name] = source() if callable(source) else source
    return fixture.filled_request(values)


def send(fixture: Fixture, transport: Transport, sources: VariableSources) -> httpx.Response:
    request = _fill(fixture, sources)
    kwargs: dict[str, Any] = {"headers": request.get("headers") or {}}
    if "form" in request:
        kwargs["data"] = request["form"]
    elif "body" in request:
        body = request["body"]
        if isinstance(body, str):
            kwargs["content"] = body.encode()
        else:
            kwargs["json"] = body
    if request.get("query"):
        kwargs["params"] = request["query"]
    return transport.request(request["method"], request["path"], **kwargs)


def _operation_label(fixture: Fixture, spec_ids: dict[str, tuple[str, str]]) -> str | None:
    if fixture.operation in spec_ids:
        method, path = spec_ids[fixture.operation]
        return f"{method} {path}"
    return None


def needs_a_user(fixture: Fixture, response: httpx.Response) -> bool:
    """The recording shows the redirect after log-in and consent; the target shows its login page, or sends
    the guest to one on its own site (Passport's 302 to `/login`: reference/ekool-oauth2.md, "Measured")."""
    if not 300 <= fixture.response["status"] < 400:
        return False
    if response.status_code == 200:
        return _media(response.headers.get("content-type")) == "text/html"
    location = response.headers.get("location")
    if not (response.is_redirect and location):
        return False
    target = response.request.url.join(location)
    return (target.scheme, target.host, target.port) == (response.request.url.scheme, response.request.url.host,
                                                        response.request.url.port)


def replay_fixture(
    fixture: Fixture, transport: Transport, sources: VariableSources, spec_ids: dict[str, tuple[str, str]],
    browser: Browser | None = None,
) -> Outcome:
    label = _operation_label(fixture, spec_ids)
    outcome = Outcome(phase="fixtures", api=fixture.api, rule=f"fixture_matches_recording:{fixture.path.stem}",
                      operation=fixture.operation, passed=False, source=fixture.source, endpoint=label or "")
    if label is None:
        outcome.message = f"fixture names operation {fixture.operation!r}, which openapi/{fixture.api}.yaml lacks"
        return outcome
    try:
        response = send(fixture, transport, sources)
        if browser is not None and needs_a_user(fixture, response):
            response = browser(str(response.request.url)) or response
    except (KeyError, httpx.HTTPError, RuntimeError) as exc:
        outcome.message = f"could not send: {exc}"
        outcome.curl = transport.last_curl()
        return outcome
    outcome.curl = curl_command(response.request, transport.secrets)
    problems = compare(fixture, response)
    outcome.passed = not problems
    outcome.message = "; ".join(problems)
    return outcome


def select_fixtures(api: str, paths: list[Path] | None = None, directory: Path | None = None) -> list[Fixture]:
    if paths:
        return [load_fixture(p) for p in paths if p.parent.name == api]
    return load_fixtures(api, directory)


def run_replay(
    api: str, transport_for: Callable[[str], Transport], sources: VariableSources,
    fixtures: list[Fixture], on_outcome: Callable[[Outcome], None] = lambda o: None, browser: Browser | None = None,
) -> list[Outcome]:
    """Replay `fixtures` of one API; `transport_for(path)` picks the host a request path goes to."""
    spec_ids = operation_ids(load_spec(api))
    outcomes = []
    for fixture in fixtures:
        transport = transport_for(fixture.request.get("path", "/"))
        outcome = replay_fixture(fixture, transport, sources, spec_ids, browser)
        on_outcome(outcome)
        outcomes.append(outcome)
    return outcomes
