"""Each deliberately broken implementation makes `harness conform` fail, naming the rule it broke."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from harness.conformance.config import ConformConfig
from harness.conformance.runner import conform
from harness.testing.live import ThreadedServer
from harness.testing.transport import ASGIAppTransport

from .mutants import MUTANTS, Mutant, TextPlainJson

IN_PROCESS = "http://harness.test"


def test_there_are_at_least_ten_covering_both_apis():
    assert len(MUTANTS) >= 10
    assert {m.api for m in MUTANTS} == {"sunbird", "ekool"}
    assert len({m.breaks for m in MUTANTS}) == len(MUTANTS)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.__name__)
def test_conform_fails_naming_the_broken_rule(make_app, mutant: type[Mutant]):
    with ASGIAppTransport(mutant(make_app())) as http:  # in process: no socket
        result = conform(ConformConfig(target=IN_PROCESS, apis=(mutant.api,), phases=("rules",)), http=http)
    failed = sorted({o.rule for o in result.outcomes if not o.passed})
    assert not result.passed
    assert mutant.breaks in failed, f"{mutant.__name__} should break {mutant.breaks}; failed: {failed}"


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
