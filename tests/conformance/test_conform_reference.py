"""`harness conform` against the reference server passes with 0 failures, with valid reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from harness.conformance.rules import plan, rules_for
from harness.fixtures import load_fixtures
from harness.specs import load_spec


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=240,
                          env={**os.environ, "COLUMNS": "250"})


@pytest.mark.parametrize("api", ["all"])
def test_conform_passes_against_the_reference_with_reports(reference, tmp_path, api):
    apis = ("sunbird", "ekool") if api == "all" else (api,)
    with reference(*apis) as server:
        result = _cli("conform", "--api", api, "--target", server.url, "--max-examples", "3", "--seed", "1",
                      "--junit-xml", str(tmp_path / "conform.xml"), "--json", str(tmp_path / "conform.json"))
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "all rules pass" in result.stdout

    report = json.loads((tmp_path / "conform.json").read_text())
    assert report["passed"] is True and report["totals"]["failures"] == 0
    expected_rules = sum(len(plan(a, load_spec(a))) for a in apis)
    assert report["totals"]["rules"] == expected_rules
    assert report["totals"]["fixtures"] == sum(len(load_fixtures(a)) for a in apis)
    assert report["generated_cases"] > 50 and report["totals"]["spec_checks"] > 0

    root = ET.parse(tmp_path / "conform.xml").getroot()
    cases = [(case.get("classname"), case.get("name")) for case in root.iter("testcase")]
    assert len(cases) == len(set(cases)) == len(report["outcomes"]) == int(root.get("tests"))
    assert root.get("failures") == "0" and not list(root.iter("failure"))
    names = {name for _, name in cases}
    assert {r.name for a in apis for r in rules_for(a)} <= names
    for a in apis:  # one testcase per rule per operation: a rule about five endpoints has five
        for rule, op in plan(a, load_spec(a)):
            assert (f"{a}.rules.{op.spec['operationId']}", rule.name) in cases


def test_bad_arguments_exit_2_with_a_message(tmp_path):
    bad = tmp_path / "c.toml"
    bad.write_text("nonsense = 1")
    bad_workers = tmp_path / "w.toml"
    bad_workers.write_text("workers = 0")
    for args, needle in ((["--api", "both"], "--api must be"), (["--phases", "spec,x"], "--phases takes"),
                         (["--config", str(bad)], "unknown setting"), (["--workers", "0"], "'--workers'"),
                         (["--config", str(bad_workers)], "workers must be a positive integer, not 0")):
        result = _cli("conform", "--target", "http://127.0.0.1:9", *args)
        assert result.returncode == 2 and needle in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
