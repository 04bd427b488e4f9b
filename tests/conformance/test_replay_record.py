"""`harness replay` and `harness record`: a recording proxy writes replayable fixtures with no secrets in them."""

from __future__ import annotations

import os
import subprocess
import sys

from harness import contract
from harness.conformance.config import ConformConfig
from harness.conformance.ekool.client import EkoolClient
from harness.conformance.record import recording_proxy
from harness.conformance.report import Reporter
from harness.conformance.runner import conform
from harness.conformance.transport import Transport
from harness.fixtures import load_fixture
from harness.testing.live import ThreadedServer


def test_replay_cli_runs_the_given_fixtures_only(reference):
    fixture = contract.fixture_dir() / "ekool" / "token_refresh_error.yaml"
    with reference("ekool") as server:
        result = subprocess.run([sys.executable, "-m", "harness", "replay", "--target", server.url, str(fixture)],
                                capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "250"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "fixture_matches_recording:token_refresh_error" in result.stdout
    assert "1 outcomes" in result.stdout


def test_recorded_exchanges_are_redacted_and_replay_against_the_reference(reference, tmp_path):
    out = tmp_path / "recorded"
    config = ConformConfig()
    with reference("ekool") as server:
        proxy = recording_proxy(server.url, out, config)
        with ThreadedServer(proxy) as front:
            transport = Transport(front.url)
            client = EkoolClient(config.with_overrides(target=front.url), transport)
            tokens = client.tokens(scopes=("users-basic",))
            assert client.resource("/user/me/basic", tokens["access_token"]).status_code == 200
            assert client.refresh(tokens["refresh_token"]).status_code == 200
            transport.close()
        files = sorted(out.rglob("*.yaml"))
        texts = {path: path.read_text() for path in files}
        for secret in (config.ekool.client_secret, tokens["access_token"], tokens["refresh_token"]):
            assert not [p.name for p, text in texts.items() if secret in text], "a secret reached a fixture"
        fixtures = [load_fixture(path) for path in files]
        by_operation = {f.operation: f for f in fixtures}
        # the login page is the reference server's, not the contract's: recorded apart, its password redacted too
        (login,) = [f for f in fixtures if f.request["method"] == "POST" and f.request["path"] == "/login"]
        assert (login.api, login.operation) == ("unknown", "")
        assert login.request["form"]["password"] == "{{redacted_password}}"
        token = by_operation["issueToken"]
        assert token.request["form"]["client_secret"] == "{{ekool_client_secret}}"
        assert "/response/body/access_token" in token.placeholders
        resource = by_operation["getMyBasic"]
        assert resource.request["headers"]["Authorization"] == "Bearer {{ekool_access_token}}"
        pages = {(f.request["method"], f.request["path"].split("?")[0]) for f in fixtures if f.api != "ekool"}
        assert pages == {("GET", "/login"), ("POST", "/login"), ("POST", "/oauth/consent")}

        replayable = [p for p in files if p.stem.split("_", 1)[1] in ("issueToken", "getMyBasic")]
        result = conform(ConformConfig(target=server.url, apis=("ekool",), phases=("fixtures",)), Reporter(),
                         fixture_paths=replayable)
    assert len(result.outcomes) == len(replayable) >= 3
    assert result.passed, [o.message for o in result.outcomes if not o.passed]
