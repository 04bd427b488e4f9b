"""`harness proxy` (issue 15): real clients through it to the reference report nothing; through it to broken
implementations, each one's rule; reports (JSON, JUnit, HAR) with every secret redacted; the command's exit."""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
from broken.mutants import (
    AcceptsAlgNone,
    BadSignatureIsUnauthorized,
    CachableTokens,
    CodeForAnyClient,
    CodeForAnyRedirectUri,
    CrashesOnGarbageRefreshToken,
    DropsResmsgid,
    DropsState,
    ErrorsWithoutMessage,
    ForeignSignedTokens,
    IgnoresClientSecret,
    IgnoresPkce,
    IgnoresScopes,
    MissingBearerIsForbidden,
    MissingRefreshTokenIsInvalidGrant,
    Mutant,
    NewSecretEveryTime,
    NoRefreshRotation,
    OpenRedirect,
    RefreshForAnyClient,
    RefreshIgnoresScope,
    RefreshMisstatesExpiry,
    RefreshTakesJson,
    RegisterTakesAnyContentType,
    ReturnsAnotherSecret,
    ReusableCode,
    ServesWithoutToken,
    SignsV2WithAnUnpublishedKey,
    StrictBase64Url,
    TextPlainJson,
    UnknownScopeIsBadRequest,
    WrongStatusForBadKey,
)
from proxy_clients import SENT_SECRETS, ekool_app, sunbird_app

from harness.conformance.config import ConformConfig
from harness.conformance.proxy import ProxyRun
from harness.server import create_app
from harness.settings import Settings
from harness.store import DB_NAME
from harness.testing.live import ThreadedServer, free_port, wait_listening

# What the proxy reports for each broken implementation, on the clients' traffic alone.
FINDS: dict[type[Mutant], str] = {
    DropsResmsgid: "register_envelope_has_documented_fields",
    AcceptsAlgNone: "credentials_are_required",
    BadSignatureIsUnauthorized: "gateway_refuses_bad_signature",
    StrictBase64Url: "gateway_accepts_standard_base64_signature",
    IgnoresClientSecret: "token_rejects_wrong_client_secret",
    OpenRedirect: "authorize_never_redirects_to_unregistered_uri",
    WrongStatusForBadKey: "register_rejects_each_documented_bad_key",
    CrashesOnGarbageRefreshToken: "refresh_rejects_garbage_token_with_invalid_grant",
    MissingRefreshTokenIsInvalidGrant: "refresh_requires_refresh_token",
    UnknownScopeIsBadRequest: "authorize_redirects_unknown_scope_as_error",
    RefreshIgnoresScope: "refresh_refuses_wider_scope",
    NewSecretEveryTime: "register_v1_same_key_returns_same_secret",
    ReturnsAnotherSecret: "register_v1_token_verifies_with_returned_secret",
    SignsV2WithAnUnpublishedKey: "register_v2_token_verifies_with_target_jwks",
    RefreshMisstatesExpiry: "refresh_gives_access_token_verifying_with_published_keys",
    TextPlainJson: "json_bodies_come_with_json_content_type",
    MissingBearerIsForbidden: "gateway_refuses_missing_or_malformed_bearer",
    RegisterTakesAnyContentType: "a_request_the_spec_forbids_is_refused",
    RefreshTakesJson: "a_request_the_spec_forbids_is_refused",
    DropsState: "authorize_echoes_state",
    ReusableCode: "code_is_single_use",
    NoRefreshRotation: "refresh_rotates_tokens",
    RefreshForAnyClient: "refresh_rotates_tokens",
    IgnoresPkce: "code_is_bound_to_client",
    CodeForAnyClient: "code_is_bound_to_client",
    CodeForAnyRedirectUri: "code_is_bound_to_client",
    IgnoresScopes: "resource_requires_its_scope",
    CachableTokens: "token_responses_are_no_store",
    ForeignSignedTokens: "access_token_verifies_and_carries_granted_scopes",
    ServesWithoutToken: "credentials_are_required",
    ErrorsWithoutMessage: "error_bodies_carry_error_description_message",
}


# What a proxy cannot tell from the traffic alone, and why (checked by `harness conform`'s active rules instead).
NOT_PASSIVE = {
    "UnknownIssIsBadSignature": "which `iss` names no credential needs the gateway's credentials",
    "IgnoresAcl": "which consumer is outside a route's group needs the gateway's consumers",
    "League8DropsErrorState": "an `rfc`-profile finding on league 8's own behaviour",
    "League8KeepsReplayedCodeTokens": "an `rfc`-profile finding on league 8's own behaviour",
    "League8UnchallengedResource401": "an `rfc`-profile finding on league 8's own behaviour",
    "League9ReusedCode": "league 9's variation, judged by the `rfc` profile",
    "League9RevokedRefresh": "league 9's variation, judged by the `rfc` profile",
}


def test_every_broken_implementation_is_reported_or_named_as_out_of_a_proxys_sight():
    from broken.mutants import MUTANTS

    assert {m.__name__ for m in FINDS} | set(NOT_PASSIVE) == {m.__name__ for m in MUTANTS}
    assert not {m.__name__ for m in FINDS} & set(NOT_PASSIVE)


def _state(state_template: Path, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(state_template / DB_NAME) as src, sqlite3.connect(directory / DB_NAME) as dst:
        src.backup(dst)
    return directory


class Proxied:
    def __init__(self, target: ThreadedServer, apis: tuple[str, ...]) -> None:
        self.run = ProxyRun(ConformConfig(target=target.url, apis=apis), target.url, on_violation=lambda v: None,
                            keep_har=True)
        self.server = ThreadedServer(self.run.forwarder)

    def __enter__(self) -> Proxied:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)
        self.run.finish()

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture
def reference(state_dir: Path) -> Iterator[ThreadedServer]:
    with ThreadedServer(create_app(Settings(state_dir=state_dir))) as server:
        yield server


def test_real_clients_through_the_proxy_to_the_reference_are_clean(reference, tmp_path, monkeypatch):
    with Proxied(reference, ("sunbird", "ekool")) as proxied:
        seen = sunbird_app(proxied.url) + ekool_app(proxied.url, monkeypatch)
    run = proxied.run
    assert run.judge.exchanges >= 30
    assert [(v.rule, v.operation, v.message) for v in run.judge.violations] == []
    paths = tmp_path / "r.json", tmp_path / "r.xml", tmp_path / "r.har"
    run.write(*paths)
    report = json.loads(paths[0].read_text())
    assert report["exchanges"] == run.judge.exchanges and report["violations"] == []
    suite = ElementTree.parse(paths[1]).getroot().find("testsuite")
    cases = {(case.get("classname"), case.get("name")) for case in suite.iter("testcase")}
    assert ("issueToken", "code_is_single_use") in cases and ("getMyRoles", "resource_requires_its_scope") in cases
    assert suite.get("failures") == "0"
    har = json.loads(paths[2].read_text())
    assert har["log"]["version"] == "1.2" and len(har["log"]["entries"]) == run.judge.exchanges
    statuses = {entry["response"]["status"] for entry in har["log"]["entries"]}
    assert {200, 302, 400, 401, 403, 415} <= statuses
    everything = "".join(path.read_text() for path in paths)
    for secret in SENT_SECRETS + seen:
        assert secret not in everything, "a secret reached a report"


@pytest.mark.parametrize("mutant", list(FINDS), ids=lambda m: m.__name__)
def test_the_proxy_reports_each_broken_implementations_rule(mutant, state_template, tmp_path, monkeypatch):
    app = create_app(Settings(state_dir=_state(state_template, tmp_path / "state")))
    # a broken implementation may break the client too: what the proxy saw until then is what counts
    with (ThreadedServer(mutant(app)) as target, Proxied(target, (mutant.api,)) as proxied,
          contextlib.suppress(AssertionError, httpx.HTTPError, KeyError, ValueError)):
        (sunbird_app if mutant.api == "sunbird" else lambda url: ekool_app(url, monkeypatch))(proxied.url)
    found = {v.rule for v in proxied.run.judge.violations}
    assert FINDS[mutant] in found, f"{mutant.__name__}: reported {sorted(found)}"


def test_the_command_writes_reports_on_sigterm_and_fails_on_violation(reference, state_template, tmp_path):
    port = free_port()
    report = tmp_path / "proxy.json"
    command = [sys.executable, "-m", "harness", "proxy", "--target", reference.url, "--port", str(port),
               "--json", str(report), "--junit-xml", str(tmp_path / "proxy.xml"), "--fail-on-violation"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(port)
        assert httpx.get(f"http://127.0.0.1:{port}/.well-known/jwks.json").status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert json.loads(report.read_text())["exchanges"] == 1 and "1 exchanges, 0 violations" in err

    app = create_app(Settings(state_dir=_state(state_template, tmp_path / "broken")))
    with ThreadedServer(ServesWithoutToken(app)) as broken:
        port = free_port()
        process = subprocess.Popen([sys.executable, "-m", "harness", "proxy", "--target", broken.url, "--port",
                                    str(port), "--json", str(report), "--fail-on-violation", "--duration", "8"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_for(port)
        httpx.get(f"http://127.0.0.1:{port}/user/me/basic")
        _, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    violations = {v["rule"]: v for v in json.loads(report.read_text())["violations"]}
    violation = violations["credentials_are_required"]
    assert violation["operation"] == "getMyBasic"
    assert violation["curl"].startswith("curl -X GET 'http://127.0.0.1:") and "violation" in err


def _wait_for(port: int) -> None:
    """Until the proxy accepts connections (no request: every request would be an exchange it judges)."""
    wait_listening("127.0.0.1", port, timeout=30)


def test_a_violation_message_never_quotes_a_secret():
    from harness.conformance.proxy.judge import Judge

    judge = Judge(ConformConfig(target="http://127.0.0.1:9", apis=("ekool",)))
    request = httpx.Request("POST", "http://127.0.0.1:9/oauth/token", data={
        "grant_type": "refresh_token", "client_id": "c", "client_secret": "the-client-secret",
        "refresh_token": "the-old-refresh-token"})
    body = {"access_token": "the-access-token-value", "refresh_token": "the-new-refresh-token"}  # no token_type
    response = httpx.Response(200, json=body, request=request, headers={"cache-control": "no-store",
                                                                          "pragma": "no-cache"})
    response.read()
    violations = judge.judge(request, response)
    assert "body_matches_its_schema" in {v.rule for v in violations}
    text = json.dumps([v.__dict__ for v in violations])
    for secret in ("the-client-secret", "the-old-refresh-token", "the-access-token-value", "the-new-refresh-token"):
        assert secret not in text
