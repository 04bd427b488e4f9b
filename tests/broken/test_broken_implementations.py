"""Each deliberately broken implementation makes `harness conform` fail, naming the rule it broke."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from harness.conformance.config import ConformConfig
from harness.conformance.rules import rules_for
from harness.conformance.runner import conform
from harness.server import create_app
from harness.settings import Settings
from harness.store import DB_NAME
from harness.testing.live import ThreadedServer
from harness.testing.transport import ASGIAppTransport

from .mutants import MUTANTS, Mutant, TextPlainJson

IN_PROCESS = "http://harness.test"


APIS = ("sunbird", "ekool")


@pytest.fixture(scope="module")
def tripped(state_template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[type[Mutant], set[str]]:
    """The rules each broken implementation makes `harness conform` fail (all rules of its API run, in process)."""
    found = {}
    for mutant in MUTANTS:
        state = tmp_path_factory.mktemp(mutant.__name__)
        with sqlite3.connect(state_template / DB_NAME) as src, sqlite3.connect(state / DB_NAME) as dst:
            src.backup(dst)
        app = create_app(Settings(state_dir=state, validate_responses=True))
        with ASGIAppTransport(mutant(app)) as http:
            result = conform(ConformConfig(target=IN_PROCESS, apis=(mutant.api,), phases=("rules",),
                                           profile=mutant.profile), http=http)
        found[mutant] = {o.rule for o in result.outcomes if not o.passed}
    return found


def test_every_rule_has_a_broken_implementation_that_trips_it(tripped: dict[type[Mutant], set[str]]) -> None:
    every_rule = {r.name for api in APIS for r in rules_for(api)}
    assert len(every_rule) == len(MUTANTS), "one broken implementation per rule"
    assert {m.breaks for m in MUTANTS} == every_rule
    assert set().union(*tripped.values()) == every_rule
    for api in APIS:
        assert all(r.source for r in rules_for(api)), "every rule cites its Source:"


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.__name__)
def test_conform_fails_naming_the_broken_rule(tripped: dict[type[Mutant], set[str]], mutant: type[Mutant]) -> None:
    failed = tripped[mutant]
    assert mutant.breaks in failed, f"{mutant.__name__} should break {mutant.breaks}; failed: {sorted(failed)}"


def test_the_cli_exits_non_zero_and_prints_the_rule(make_app, tmp_path):
    with ThreadedServer(TextPlainJson(make_app())) as server:
        result = subprocess.run(
            [sys.executable, "-m", "harness", "conform", "--api", "sunbird", "--target", server.url,
             "--phases", "rules", "--junit-xml", str(tmp_path / "j.xml")],
            capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "250"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "json_bodies_come_with_json_content_type" in result.stdout
    assert "reproduce: curl" in result.stdout
    assert 'name="json_bodies_come_with_json_content_type"' in (tmp_path / "j.xml").read_text()


SINGLE_RESPONSE_RULES = {"json_bodies_come_with_json_content_type", "token_responses_are_no_store",
                         "error_bodies_carry_error_description_message"}


def test_the_single_response_rules_are_also_checks_of_every_generated_case() -> None:
    assert {r.name for api in APIS for r in rules_for(api) if r.each_response} == SINGLE_RESPONSE_RULES


# Generated cases hold no valid code, so they never see a successful token answer, the only kind
# `token_responses_are_no_store` judges; its mutant is caught by the rules phase (the equality test).
SEEN_BY_GENERATED_CASES = SINGLE_RESPONSE_RULES - {"token_responses_are_no_store"}


@pytest.mark.parametrize("mutant", [m for m in MUTANTS if m.breaks in SEEN_BY_GENERATED_CASES],
                         ids=lambda m: m.__name__)
def test_the_spec_phase_catches_a_single_response_rule_broken(make_app, mutant: type[Mutant]) -> None:
    with ThreadedServer(mutant(make_app())) as server:  # schemathesis sends real HTTP
        result = conform(ConformConfig(target=server.url, apis=(mutant.api,), phases=("spec",), max_examples=5,
                                       seed=1))
    failed = {(o.rule, o.operation) for o in result.outcomes if not o.passed}
    assert any(rule == mutant.breaks for rule, _ in failed), sorted(failed)
    judged = {o.operation for o in result.outcomes if o.rule == mutant.breaks}
    assert judged and "getJwks" not in judged  # only the operations the rule is about
