"""`harness diff` (issue 15): the reference against itself agrees; against a broken implementation, its
differences are listed per operation; masking keeps what legitimately differs out of the comparison."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from broken.mutants import DropsResmsgid, ErrorsWithoutMessage, TextPlainJson

from harness.conformance.config import ConformConfig
from harness.conformance.diff import compare, diff, mask
from harness.fixtures import load_fixtures
from harness.server import create_app
from harness.settings import Settings
from harness.store import DB_NAME
from harness.testing.live import ThreadedServer


def _server(state_template: Path, directory: Path, wrap=lambda app: app) -> ThreadedServer:
    directory.mkdir(parents=True)
    with sqlite3.connect(state_template / DB_NAME) as src, sqlite3.connect(directory / DB_NAME) as dst:
        src.backup(dst)
    return ThreadedServer(wrap(create_app(Settings(state_dir=directory))))


@pytest.fixture
def pair(state_template, tmp_path):
    with _server(state_template, tmp_path / "a") as a, _server(state_template, tmp_path / "b") as b:
        yield a, b


@pytest.mark.parametrize("api", ["sunbird", "ekool"])
def test_the_reference_agrees_with_itself(pair, api):
    a, b = pair
    result = diff(api, ConformConfig(target=a.url, apis=(api,)), ConformConfig(target=b.url, apis=(api,)),
                  max_examples=4, seed=7)
    assert result.fixtures == len(load_fixtures(api)) > 0, "every recorded fixture went to both sides"
    assert result.cases - result.fixtures >= 10 and len(result.operations) >= 6
    assert result.agree, [(d.operation, d.what, d.a, d.b) for d in result.differences]


@pytest.mark.parametrize(("mutant", "operation", "what"), [
    (TextPlainJson, "registerCredentialV1", "content_type"),
    (DropsResmsgid, "getApiToken", "body/params/resmsgid"),
    (ErrorsWithoutMessage, "issueToken", "body/message"),
])
def test_a_broken_implementations_differences_are_listed(state_template, tmp_path, mutant, operation, what):
    with _server(state_template, tmp_path / "a") as a, _server(state_template, tmp_path / "b", mutant) as b:
        result = diff(mutant.api, ConformConfig(target=a.url, apis=(mutant.api,)),
                      ConformConfig(target=b.url, apis=(mutant.api,)), max_examples=6, seed=3)
    assert not result.agree
    found = {(d.operation, d.what) for d in result.differences}
    assert (operation, what) in found, sorted(found)


def test_the_command_exits_0_when_they_agree_and_1_when_they_differ(state_template, tmp_path):
    report = tmp_path / "diff.json"
    with _server(state_template, tmp_path / "a") as a, _server(state_template, tmp_path / "b") as b, \
            _server(state_template, tmp_path / "c", TextPlainJson) as broken:
        command = [sys.executable, "-m", "harness", "diff", "--api", "sunbird", "--max-examples", "3",
                   "--json", str(report), "--junit-xml", str(tmp_path / "diff.xml"), "--a", a.url, "--b"]
        agreed = subprocess.run([*command, b.url], capture_output=True, text=True, timeout=120)
        assert agreed.returncode == 0, agreed.stderr
        assert json.loads(report.read_text())["agree"] is True and "the answers agree" in agreed.stderr
        differed = subprocess.run([*command, broken.url], capture_output=True, text=True, timeout=120)
    assert differed.returncode == 1, differed.stderr
    document = json.loads(report.read_text())
    assert document["agree"] is False
    assert {"operation", "what", "a", "b"} <= set(document["differences"][0])
    assert 'failures="0"' not in (tmp_path / "diff.xml").read_text()


def test_masking_keeps_legitimate_variation_out():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJrIn0.c2lnbmF0dXJl"
    a = {"token": jwt, "ets": 1796185024569, "when": "2026-12-02T04:00:00Z", "url": "http://a:1/realm",
         "n": "x" * 300, "id": "3f7e1c6a-8a2b-4c1d-9e8f-0a1b2c3d4e5f", "status": "ok"}
    b = {**a, "token": jwt[:-3] + "xyz", "ets": 1796185029999, "when": "2026-12-02T04:00:09Z",
         "url": "http://b:2/realm", "n": "y" * 300}
    view = {"status": 200, "content_type": "application/json", "headers": {}}
    assert compare({**view, "body": mask(a, ("http://a:1",))}, {**view, "body": mask(b, ("http://b:2",))}) == []
    changed = {**b, "status": "failed"}
    assert compare({**view, "body": mask(a, ("http://a:1",))}, {**view, "body": mask(changed, ("http://b:2",))}) == [
        ("body/status", "ok", "failed")]


def test_seconds_left_read_a_moment_apart_agree_but_another_lifetime_differs():
    view = {"status": 200, "content_type": "application/json", "headers": {}}

    def answer(expires_in: int, refresh_expires_in: int) -> dict:
        return {**view, "body": mask({"result": {"expires_in": expires_in,
                                                 "refresh_expires_in": refresh_expires_in}}, ())}

    assert compare(answer(1800, 1800), answer(1799, 1797)) == []
    assert compare(answer(1800, 1800), answer(3600, 1800)) == [("body/result/expires_in", 1800, 3600)]
    assert compare(answer(1800, 0), answer(1800, 1800)) == [("body/result/refresh_expires_in", 0, 1800)]
