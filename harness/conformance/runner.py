"""`harness conform`: the three phases per API against one target, gathered into one result."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from harness.conformance.apis import ConformanceClient, for_api
from harness.conformance.config import ConformConfig
from harness.conformance.replay import run_replay, select_fixtures
from harness.conformance.report import Reporter, RunResult
from harness.conformance.results import Outcome
from harness.conformance.rules import plan
from harness.conformance.schema_phase import run_schema_phase
from harness.conformance.transport import Transport
from harness.specs import load_spec

PHASE_NAMES = ("spec", "rules", "fixtures")


def run_rules(api: str, client: ConformanceClient, transport: Transport, reporter: Reporter,
              names: list[str] | None = None, profile: str = "default") -> list[Outcome]:
    """Phase 2: every semantic rule of `profile` on every operation it is about; `transport` is the run's (its
    exchange log is every host's, so a failure shows the last request the rule sent). A known deviation of the
    real system that the target shares passes under a profile that does not judge it, with a note."""
    outcomes = []
    for rule, op in plan(api, load_spec(api), names, profile):
        outcome = Outcome(phase="rules", api=api, rule=rule.name, operation=op.operation_id, passed=True,
                          source=rule.source, endpoint=op.label)
        start = len(transport.exchanges)
        if op.missing:
            outcome.passed = False
            outcome.message = f"{op.label} is not in openapi/{api}.yaml"
        else:
            try:
                rule.func(client, op)
            except AssertionError as exc:
                outcome.passed, outcome.message = False, str(exc) or "assertion failed"
            except Exception as exc:  # a target that breaks a client flow fails the rule, not the run
                outcome.passed, outcome.message = False, f"could not check: {type(exc).__name__}: {exc}"
        if not outcome.passed and len(transport.exchanges) > start:
            outcome.curl = transport.last_curl()
        if not outcome.passed and not op.missing and not rule.judges_under(profile):
            outcome.passed = True
            outcome.note = f"known deviation of the real system from {rule.source}: {outcome.message}"
            outcome.message = ""
        reporter.outcome(outcome)
        outcomes.append(outcome)
    return outcomes


def conform(
    config: ConformConfig, reporter: Reporter | None = None, fixture_paths: list[Path] | None = None,
    rule_names: list[str] | None = None, http: httpx.BaseTransport | None = None,
) -> RunResult:
    """Run the configured phases against the target. `http` sends the rules' and the fixtures' requests through
    another httpx transport (in process, no socket); the spec phase always goes over the network."""
    if http is not None and "spec" in config.phases:
        raise ValueError("the spec phase (schemathesis) sends real HTTP: give it a target URL, or run only the "
                         "rules and fixtures phases through a transport")
    reporter = reporter or Reporter()
    result = RunResult(target=config.base_url, apis=config.apis, profile=config.profile)
    started = time.perf_counter()
    transport = Transport(config.base_url, config.request_timeout, http=http)
    try:
        for api in config.apis:
            client = for_api(api).client(config, transport)
            if "spec" in config.phases:
                reporter.phase(api, "spec (schemathesis)")
                run = run_schema_phase(api, config, client, on_cases=reporter.cases)
                result.cases += run.cases
                for phase, count in run.cases_by_phase.items():
                    result.cases_by_phase[phase] = result.cases_by_phase.get(phase, 0) + count
                result.stateful_transitions[api] = run.stateful_transitions
                for outcome in run.outcomes:
                    reporter.outcome(outcome)
                result.outcomes += run.outcomes
            if "rules" in config.phases:
                reporter.phase(api, "rules")
                result.outcomes += run_rules(api, client, transport, reporter, rule_names, config.profile)
            if "fixtures" in config.phases:
                reporter.phase(api, "fixtures")
                fixtures = select_fixtures(api, fixture_paths, config.fixture_dir)
                result.outcomes += run_replay(api, client.transport_for, client.variables(), fixtures,
                                              reporter.outcome, client.browse)
    finally:
        transport.close()
        reporter.close()
    result.elapsed = time.perf_counter() - started
    return result
