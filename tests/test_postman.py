"""Postman collections: generated from the specs, committed, and green under newman against `harness serve`."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import postman
from harness.testing.live import ProcessServer

ROOT = Path(__file__).resolve().parent.parent
NEWMAN = ROOT / "node_modules" / ".bin" / "newman"


def test_committed_collections_match_a_fresh_export():
    for name, document in postman.exports().items():
        committed = (ROOT / "postman" / name).read_text(encoding="utf-8")
        assert committed == postman.render(document), f"postman/{name} is stale: run `harness postman export`"


def test_export_fails_when_a_step_names_an_operation_missing_from_the_spec(monkeypatch):
    original = postman.load_spec

    def without_refresh(api: str):
        spec = original(api)
        spec["paths"].pop("/auth/v1/refresh/token", None)
        return spec

    monkeypatch.setattr(postman, "load_spec", without_refresh)
    with pytest.raises(KeyError, match="refreshAccessToken"):
        postman.collection("sunbird")


def test_every_step_asserts_status_and_documented_keys():
    for api in ("sunbird", "ekool"):
        for item in postman.collection(api)["item"]:
            script = "\n".join(item["event"][0]["script"]["exec"])
            assert "pm.response.to.have.status(" in script, item["name"]
        # a 200 JSON step must assert at least one documented key from the spec
        assert any("to.have.property" in "\n".join(i["event"][0]["script"]["exec"])
                   for i in postman.collection(api)["item"])


@pytest.fixture(scope="module")
def auto_login_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessServer]:
    with ProcessServer(tmp_path_factory.mktemp("newman-state"), 1, None, "--auto-login", "mari") as server:
        yield server


def newman(collection: Path, base_url: str, report: Path, *env: str) -> dict:
    assert NEWMAN.exists() or shutil.which("newman"), "newman missing: run `make node`"
    args = [str(NEWMAN), "run", str(collection), "--reporters", "cli,json", "--reporter-json-export", str(report),
            "--env-var", f"base_url={base_url}", *env]
    subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=ROOT)
    return json.loads(report.read_text())["run"]


@pytest.mark.newman
@pytest.mark.parametrize("api", ["sunbird", "ekool"])
def test_generated_collection_is_green_under_newman(api, auto_login_server, tmp_path):
    run = newman(ROOT / "postman" / f"{api}.postman_collection.json", auto_login_server.url, tmp_path / "r.json",
                 "-e", str(ROOT / "postman" / "local.postman_environment.json"))
    failures = [(f["source"]["name"], f["error"]["message"]) for f in run["failures"]]
    assert failures == []
    assert run["stats"]["requests"]["total"] == len(postman.collection(api)["item"])
    assert run["stats"]["assertions"]["total"] >= 2 * run["stats"]["requests"]["total"]


@pytest.mark.newman
def test_original_seed_collection_runs_against_the_mock(auto_login_server, tmp_path):
    """The published eKool collection carries empty placeholders (no client, no token): every request
    reaches the mock and gets the documented refusal, never a 5xx."""
    seed = ROOT / "postman" / "seed" / "ekool.postman_collection.json"
    url = auto_login_server.url
    run = newman(seed, url, tmp_path / "r.json", "--env-var", f"login_url={url}", "--env-var", f"api_url={url}")
    statuses = {e["item"]["name"]: e["response"]["code"] for e in run["executions"]}
    assert len(statuses) == 8
    assert all(code < 500 for code in statuses.values()), statuses
    assert statuses["Client user authorization initialization"] in (400, 401)
    assert statuses["Authorization code exchange"] in (400, 401)
    for resource in ("General user data", "User basic data", "User roles", "User schools", "User children"):
        assert statuses[resource] == 401
