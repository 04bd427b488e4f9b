"""Phase 1: schemathesis over every operation of our spec, against the target URL.

The spec is ours (`openapi/<api>.yaml`), not whatever the target serves: the contract is what is checked.
All four test phases (examples, coverage, fuzzing, stateful) and all built-in checks run through the
schemathesis engine; the harness supplies authentication the way a real client gets it.

With `workers` > 1 schemathesis runs the examples, coverage and fuzzing phases in that many threads (one
operation per thread at a time; the stateful phase stays in one). Those threads run the auth provider
(schemathesis caches its tokens per identity and fetches them under its own lock; a client's `token_for` keeps
no cache, and the `Secrets` it adds to are locked) and the rule checks (pure functions of a response; the table
they look up is written only between runs). Results come back as events on the thread that iterates the
engine, so `_Tally` is only ever touched by that one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES
from schemathesis.engine import Status, events, from_schema
from schemathesis.engine.recorder import ScenarioRecorder

from harness.conformance.apis import ConformanceClient
from harness.conformance.config import ConformConfig
from harness.conformance.results import Outcome
from harness.conformance.rules import ResponseJudge, rules_for, spec_ops
from harness.specs import load_spec, operations

PHASES = ("examples", "coverage", "fuzzing", "stateful")
CHECK_SOURCE = "schemathesis built-in check against openapi/{api}.yaml"


@dataclass
class SchemaRun:
    outcomes: list[Outcome] = field(default_factory=list)
    cases: int = 0
    cases_by_phase: dict[str, int] = field(default_factory=dict)
    stateful_transitions: int = 0


def _auth_provider(client: ConformanceClient) -> type:
    class HarnessAuth:
        """Bearer per case, fetched over HTTP like a client; schemathesis re-fetches after a 401."""

        def get(self, case: Any, ctx: Any) -> str | None:
            identity = client.identity_for(case)
            return client.token_for(identity) if identity else None

        def set(self, case: Any, data: str | None, ctx: Any) -> None:
            if data:
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return HarnessAuth


def mock_only_operation_ids(spec: dict[str, Any]) -> list[str]:
    """Operations marked `x-mock-only` (eKool's JWKS, which league does not publish): a deployment is not fuzzed
    on them. They stay in the schema, so other methods on their paths are not taken as undeclared."""
    return [op["operationId"] for _, _, op in operations(spec) if op.get("x-mock-only") and "operationId" in op]


def schema_valid_rejections(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-operation schemathesis settings from the spec's `x-schema-valid-rejections`.

    Some statuses answer schema-valid requests for reasons no schema can carry (a refresh token the realm
    never issued, a key another consumer owns); the spec names them, and `positive_data_acceptance` admits them.
    """
    settings = []
    for method, path, operation in operations(spec):
        statuses = [str(status) for status in operation.get("x-schema-valid-rejections", {})]
        if statuses:
            expected = [*POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES, *statuses]
            settings.append({"include-path": path, "include-method": method,
                             "checks": {"positive_data_acceptance": {"expected-statuses": expected}}})
    return settings


def _schemathesis_config(config: ConformConfig, base_url: str, spec: dict[str, Any]) -> SchemathesisConfig:
    data: dict[str, Any] = {
        "base-url": base_url,
        "workers": config.workers,
        "request-timeout": config.request_timeout,
        "cache": {"enabled": False},
        "generation": {"max-examples": config.max_examples},
        "phases": {name: {"enabled": True} for name in PHASES},
    }
    overrides = schema_valid_rejections(spec)
    if overrides:
        data["operations"] = overrides
    if config.seed is not None:
        data["seed"] = config.seed
    return SchemathesisConfig.from_dict(data)


# rule name -> (the operations it judges in the running schema phase, its judgement)
_ACTIVE_JUDGES: dict[str, tuple[frozenset[tuple[str, str]], ResponseJudge]] = {}
_REGISTERED_CHECKS: set[str] = set()


def _as_httpx(response: Any) -> httpx.Response:
    headers = [(name, value) for name, values in response.headers.items() for value in values]
    return httpx.Response(response.status_code, headers=headers, content=response.content)


def _judge_for(check_name: str, operation: Any) -> ResponseJudge | None:
    """The judgement of a harness rule's check on `operation`, None when the rule is not about it."""
    active = _ACTIVE_JUDGES.get(check_name)
    if active is None or operation is None or (operation.method.upper(), operation.path) not in active[0]:
        return None
    return active[1]


def _judges(check_name: str, operation: Any) -> bool:
    """False for a harness rule's check on an operation the rule is not about (it judged nothing there)."""
    return check_name not in _REGISTERED_CHECKS or _judge_for(check_name, operation) is not None


def _named_check(name: str) -> Callable[[Any, Any, Any], None]:
    def check(ctx: Any, response: Any, case: Any) -> None:
        judge = _judge_for(name, case.operation)
        if judge is not None:
            judge(_as_httpx(response))

    check.__name__ = check.__qualname__ = name
    check.__doc__ = f"harness rule {name}, on every generated case of its operations"
    return check


@contextmanager
def response_rules_as_checks(api: str, spec: dict[str, Any]) -> Iterator[None]:
    """While the schema phase runs, the API's single-response rules are schemathesis checks named after them,
    judging the responses of the operations each rule is about (outside a run they judge nothing)."""
    names = []
    for rule in rules_for(api):
        if rule.each_response is None:
            continue
        chosen = frozenset((op.method, op.path) for op in rule.selector(spec_ops(spec)) if not op.missing)
        _ACTIVE_JUDGES[rule.name] = (chosen, rule.each_response)
        names.append(rule.name)
        if rule.name not in _REGISTERED_CHECKS:
            schemathesis.check(_named_check(rule.name))
            _REGISTERED_CHECKS.add(rule.name)
    try:
        yield
    finally:
        for name in names:
            _ACTIVE_JUDGES.pop(name, None)


def _operation_id(operation: Any) -> str | None:
    raw = getattr(getattr(operation, "definition", None), "raw", None)
    return raw.get("operationId") if isinstance(raw, dict) else None


class _Tally:
    """Check results per (operation, check): passed unless any case failed; the first failure kept."""

    def __init__(self, api: str) -> None:
        self.api = api
        self.results: dict[tuple[str, str], Outcome] = {}
        self.run = SchemaRun()

    def add(self, phase: str, recorder: ScenarioRecorder) -> int:
        cases = len(recorder.cases)
        self.run.cases += cases
        self.run.cases_by_phase[phase] = self.run.cases_by_phase.get(phase, 0) + cases
        for case_id, checks in recorder.checks.items():
            node = recorder.cases.get(case_id)
            operation = node.value.operation if node is not None else None
            label = operation.label if operation is not None else recorder.label
            name = _operation_id(operation) or label
            for check in checks:
                if not _judges(check.name, operation):
                    continue
                outcome = self.results.setdefault((name, check.name), Outcome(
                    phase="spec", api=self.api, rule=check.name, operation=name, passed=True,
                    source=CHECK_SOURCE.format(api=self.api), endpoint=label if operation is not None else ""))
                outcome.cases += 1
                if check.status == Status.FAILURE and outcome.passed and check.failure_info is not None:
                    failure = check.failure_info.failure
                    outcome.passed = False
                    outcome.message = f"[{phase}] {failure.title}: {failure.message}".strip()
                    outcome.curl = check.failure_info.code_sample
        return cases

    def error(self, event: events.NonFatalError) -> None:
        label = event.label or "schema"
        self.results[(label, "schemathesis_error")] = Outcome(
            phase="spec", api=self.api, rule="schemathesis_error", operation=label, passed=False,
            message=f"{event.info.title}: {event.info.message}", source=CHECK_SOURCE.format(api=self.api))


def run_schema_phase(
    api: str, config: ConformConfig, client: ConformanceClient, on_cases: Callable[[int], None] = lambda n: None,
) -> SchemaRun:
    """Every phase and check of schemathesis over `openapi/<api>.yaml` against the target."""
    tally = _Tally(api)
    with response_rules_as_checks(api, load_spec(api)):
        _run(api, config, client, on_cases, tally)
    tally.run.outcomes = sorted(tally.results.values(), key=lambda o: (o.operation, o.rule))
    return tally.run


def _run(api: str, config: ConformConfig, client: ConformanceClient, on_cases: Callable[[int], None],
         tally: _Tally) -> None:
    for base_url, narrow in client.schema_targets():
        raw = load_spec(api)
        schema = schemathesis.openapi.from_dict(raw, config=_schemathesis_config(config, base_url, raw))
        hidden = mock_only_operation_ids(raw)
        schema = narrow(schema.exclude(operation_id=hidden) if hidden else schema)
        # `schema.auth(Provider)` only builds a test decorator; call-then-decorate registers the provider.
        schema.auth(cache_by_key=lambda case, ctx: client.identity_for(case) or "")(_auth_provider(client))
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                on_cases(tally.add(event.phase.value, event.recorder))
            elif isinstance(event, events.NonFatalError):
                tally.error(event)
            elif isinstance(event, events.PhaseStarted) and event.payload is not None:
                tally.run.stateful_transitions = max(tally.run.stateful_transitions,
                                                     event.payload.transitions_total)
            elif isinstance(event, events.FatalError):
                raise RuntimeError(f"schemathesis could not run on {api}: {event.exception}") from event.exception
