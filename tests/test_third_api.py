"""A third API slots in as one folder and one entry point (tests/thirdapi/): every door serves and checks it.

The toy plugin is put on PYTHONPATH of `harness` subprocesses only, so the rest of the suite never sees it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from harness.testing.live import ProcessServer, free_port, wait_healthy

pytestmark = pytest.mark.slow

PLUGIN_DIR = Path(__file__).resolve().parent / "thirdapi"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PLUGIN_DIR), os.environ.get("PYTHONPATH")])),
       "COLUMNS": "250"}


def harness(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=300,
                          env=ENV, cwd=cwd)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessServer]:
    with ProcessServer(tmp_path_factory.mktemp("toy-state"), env=ENV) as live:
        yield live


def test_serve_answers_the_third_api_beside_the_others(server: ProcessServer) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.get("/__harness/health").json()["apis"] == ["sunbird", "ekool", "toy"]
        assert http.get("/toy/greeting/ada").json() == {"greeting": "hello, ada"}
        assert http.post("/toy/notes", json={"text": "hi"}).json() == {"text": "hi", "length": 2}
        assert http.post("/toy/notes", json={"text": 5}).status_code == 400
        spec = http.get("/toy/openapi.json").json()
        assert {op["operationId"] for item in spec["paths"].values() for op in item.values()} == {
            "getGreeting", "echoNote"}
        assert spec["servers"][0]["url"] == f"{server.url}/toy"
        assert "Toy greeting API" in http.get("/").text
        assert http.get("/api/auth/realms/sunbird/.well-known/openid-configuration").status_code == 200


def test_conform_checks_the_third_api_with_its_rule_and_fixture(server: ProcessServer, tmp_path: Path) -> None:
    report = tmp_path / "toy.json"
    result = harness("conform", "--api", "toy", "--target", server.url, "--max-examples", "10", "--json", str(report))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    outcomes = json.loads(report.read_text())["outcomes"]
    by_phase = {phase: {(o["rule"], o["operation"]) for o in outcomes if o["phase"] == phase}
                for phase in ("spec", "rules", "fixtures")}
    assert by_phase["rules"] == {("greeting_names_the_caller", "getGreeting")}
    assert by_phase["fixtures"] == {("fixture_matches_recording:greeting", "getGreeting")}
    assert {operation for _, operation in by_phase["spec"]} == {"getGreeting", "echoNote"}
    assert all(o["passed"] for o in outcomes)


def test_conform_fails_a_broken_third_api(tmp_path: Path) -> None:
    """The toy rule can fail: a server whose greeting names someone else."""
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "sitecustomize.py").write_text(
        "import toyapi.handlers\ntoyapi.handlers.greeting = lambda name: {'greeting': 'hello, nobody'}\n")
    env = {**ENV, "PYTHONPATH": os.pathsep.join([str(broken), ENV["PYTHONPATH"]])}
    with ProcessServer(tmp_path / "state", env=env) as live:
        result = harness("conform", "--api", "toy", "--target", live.url, "--phases", "rules,fixtures")
    assert result.returncode == 1 and "greeting_names_the_caller" in result.stdout, result.stdout[-3000:]


def test_replay_and_record_work_for_the_third_api(server: ProcessServer, tmp_path: Path) -> None:
    fixture = PLUGIN_DIR / "toyapi" / "fixtures" / "toy" / "greeting.yaml"
    replayed = harness("replay", "--target", server.url, str(fixture))
    assert replayed.returncode == 0 and "fixture_matches_recording:greeting" in replayed.stdout, replayed.stdout
    port, out = free_port(), tmp_path / "recorded"
    proxy = subprocess.Popen([sys.executable, "-m", "harness", "record", "--target", server.url, "--port", str(port),
                              "--out", str(out)], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", timeout=60, process=proxy)
        assert httpx.get(f"http://127.0.0.1:{port}/toy/greeting/grace", timeout=10).status_code == 200
    finally:
        proxy.terminate()
        proxy.wait(timeout=15)
    (recorded,) = (out / "toy").glob("*_getGreeting.yaml")
    assert yaml.safe_load(recorded.read_text())["response"]["body"] == {"greeting": "hello, grace"}


def test_postman_export_writes_the_third_apis_collection(tmp_path: Path) -> None:
    result = harness("postman", "export", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    collection = json.loads((tmp_path / "toy.postman_collection.json").read_text())
    assert [item["name"] for item in collection["item"]] == ["getGreeting: greet ada", "echoNote: echo a note"]
    environment = json.loads((tmp_path / "local.postman_environment.json").read_text())
    assert {"key": "toy_url", "value": "{{base_url}}/toy", "type": "default", "enabled": True} in environment["values"]


def test_the_pytest_plugin_serves_the_third_api(tmp_path: Path) -> None:
    (tmp_path / "test_toy_client.py").write_text(textwrap.dedent('''
        import httpx
        import requests

        def test_offline(harness_mock):
            assert requests.get("https://toy.example/toy/greeting/ada").json() == {"greeting": "hello, ada"}

        def test_httpx(harness_transport):
            with httpx.Client(transport=harness_transport, base_url="https://toy.example/toy") as http:
                assert http.post("/notes", json={"text": "abc"}).json()["length"] == 3

        def test_live(harness_server):
            assert requests.get(f"{harness_server.url}/toy/greeting/bob", timeout=10).ok
    '''))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                            capture_output=True, text=True, timeout=300, env=ENV, cwd=tmp_path)
    assert result.returncode == 0 and "3 passed" in result.stdout, result.stdout[-3000:]


def test_without_the_plugin_the_third_api_is_unknown() -> None:
    result = subprocess.run([sys.executable, "-m", "harness", "conform", "--api", "toy", "--target",
                             "http://127.0.0.1:9"], capture_output=True, text=True, timeout=120,
                            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert result.returncode == 2 and "--api must be sunbird, ekool or all" in result.stderr
