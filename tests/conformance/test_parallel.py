"""`workers` > 1: schemathesis runs the spec phase in more threads and reaches the outcomes of one worker."""

from __future__ import annotations

import threading
from typing import Any

from typer.testing import CliRunner

from harness.cli import app
from harness.conformance import runner
from harness.conformance.apis import ConformanceClient, for_api
from harness.conformance.config import ConformConfig
from harness.conformance.report import RunResult
from harness.conformance.results import Outcome
from harness.conformance.schema_phase import SchemaRun, run_schema_phase
from harness.conformance.transport import Transport


class ThreadSpy:
    """A client that notes the threads asking it which credential a generated case is sent with (every case)."""

    def __init__(self, client: ConformanceClient) -> None:
        self.client = client
        self.threads: set[str] = set()

    def identity_for(self, case: Any) -> str | None:
        self.threads.add(threading.current_thread().name)
        return self.client.identity_for(case)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def _spec_phase(api: str, url: str, workers: int) -> tuple[SchemaRun, set[str]]:
    config = ConformConfig(target=url, apis=(api,), max_examples=2, seed=1, workers=workers)
    transport = Transport(url)
    try:
        spy = ThreadSpy(for_api(api).client(config, transport))
        return run_schema_phase(api, config, spy), spy.threads
    finally:
        transport.close()


def _outcomes(run: SchemaRun) -> set[tuple[str, str, bool]]:
    return {(o.operation, o.rule, o.passed) for o in run.outcomes}


def test_two_workers_reach_the_outcomes_of_one_with_one_more_thread(reference):
    with reference("ekool") as server:
        one, one_threads = _spec_phase("ekool", server.url, workers=1)
        two, two_threads = _spec_phase("ekool", server.url, workers=2)
    assert two.cases > 100 and two.outcomes and all(o.passed for o in two.outcomes)
    assert _outcomes(two) == _outcomes(one)
    assert {"examples", "coverage", "fuzzing", "stateful"} <= set(two.cases_by_phase)
    # one worker: its unit-test thread and the stateful phase's; two workers: one more running cases
    assert len(two_threads) == len(one_threads) + 1, (one_threads, two_threads)


def test_workers_reach_the_run_from_the_command_line_and_the_file(monkeypatch, tmp_path):
    seen: list[ConformConfig] = []

    def run(config: ConformConfig, *args: Any, **kwargs: Any) -> RunResult:
        seen.append(config)
        return RunResult(config.base_url, config.apis, outcomes=[Outcome("spec", "ekool", "r", "op", passed=True)])

    monkeypatch.setattr(runner, "conform", run)
    config = tmp_path / "c.toml"
    config.write_text("workers = 3\n")
    for args, expected in (([], 1), (["--config", str(config)], 3), (["--config", str(config), "--workers", "2"], 2)):
        result = CliRunner().invoke(app, ["conform", "--api", "ekool", "--target", "http://127.0.0.1:9", *args])
        assert result.exit_code == 0, result.output
        assert seen.pop().workers == expected
