"""curl rendering masks secrets and round-trips; JUnit XML has one testcase per rule per operation."""

from __future__ import annotations

import json
import shlex
import subprocess
import xml.etree.ElementTree as ET

import httpx

from harness.conformance.report import RunResult, junit_xml, summary_table, write_json, write_junit
from harness.conformance.results import Outcome
from harness.conformance.transport import Secrets, curl_command


def test_curl_command_reproduces_the_request_with_secrets_as_variables():
    secrets = Secrets()
    secrets.add("s3cret", "EKOOL_CLIENT_SECRET")
    request = httpx.Request("POST", "http://127.0.0.1:9/oauth/token?x=1", data={"client_secret": "s3cret", "a": "b c"},
                            headers={"Authorization": "Bearer tok"})
    command = curl_command(request, secrets)
    assert "s3cret" not in command and "${EKOOL_CLIENT_SECRET}" in command
    args = shlex.split(command)
    assert args[:4] == ["curl", "-i", "-X", "POST"] and args[-1] == "http://127.0.0.1:9/oauth/token?x=1"
    assert "Authorization: Bearer tok" in args
    assert args[args.index("--data-binary") + 1] == "client_secret=${EKOOL_CLIENT_SECRET}&a=b+c"
    assert '"client_secret=${EKOOL_CLIENT_SECRET}&a=b+c"' in command  # double quotes: the shell expands it


def test_secret_quoting_escapes_shell_metacharacters():
    secrets = Secrets()
    secrets.add("pw", "PW")
    word = secrets.quote('a"$`\\pw x')
    assert "pw" not in word.replace("${PW}", "")
    shell = subprocess.run(["bash", "-c", f"printf %s {word}"], capture_output=True, text=True,
                           env={"PW": "the-secret", "PATH": "/usr/bin:/bin"}, check=True)
    assert shell.stdout == 'a"$`\\the-secret x'


def _result() -> RunResult:
    return RunResult(target="http://127.0.0.1:1", apis=("ekool",), cases=12, elapsed=1.5, outcomes=[
        Outcome("rules", "ekool", "code_is_single_use", "issueToken", False, "reused", "curl -X POST x",
                "RFC 6749 §4.1.2"),
        Outcome("rules", "ekool", "resource_requires_token", "getGeneralData", True),
        Outcome("rules", "ekool", "resource_requires_token", "getMyBasic", True),
        Outcome("spec", "ekool", "not_a_server_error", "getGeneralData", True, cases=7),
    ])


def test_junit_xml_is_valid_with_one_testcase_per_rule_per_operation(tmp_path):
    path = tmp_path / "out.xml"
    write_junit(_result(), path)
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites" and root.get("tests") == "4" and root.get("failures") == "1"
    cases = [(c.get("classname"), c.get("name")) for c in root.iter("testcase")]
    assert len(cases) == len(set(cases)) == 4
    assert ("ekool.rules.getMyBasic", "resource_requires_token") in cases
    failed = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["code_is_single_use"]
    assert "curl -X POST x" in failed[0].find("failure").text
    assert junit_xml(_result()).getroot().find("testsuite").get("name") == "ekool.rules"


def test_json_report_and_verdict(tmp_path):
    result = _result()
    assert not result.passed
    write_json(result, tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["passed"] is False and data["totals"]["failures"] == 1 and data["generated_cases"] == 12
    result.outcomes = [o for o in result.outcomes if o.passed]
    assert result.passed
    assert not RunResult(target="x", apis=()).passed  # nothing checked is not a pass


def test_summary_table_folds_passing_spec_checks():
    table = summary_table(_result())
    assert table.row_count == 4  # three rule rows + one folded spec row
