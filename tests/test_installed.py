"""The tool as a user installs it: the wheel and the sdist built from this checkout, the wheel installed into a
new virtualenv outside the checkout, and every command run from an empty directory, as a CI job that checks a
deployment would (`pip install <wheel>`, then `harness ...`; no clone of our source)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import textwrap
import venv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import jwt
import pytest

from harness import __version__
from harness.conformance.login import authorize_via_forms
from harness.testing.live import ProcessServer, free_port, wait_listening
from harness.testing.sunbird import gateway_bearer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_DIRS = ("openapi", "fixtures", "postman")
# the demo data's eKool client and user, and a Sunbird gateway credential (fixtures/*/demo/*.yaml)
CLIENT_ID, CLIENT_SECRET = "ekooldemoclient00000000000000001", "ekooldemosecret0000000000000000000000001"
REDIRECT_URI = "http://localhost:3000/callback"


def _repo_contract_files() -> set[str]:
    """`openapi/...`, `fixtures/...`, `postman/...` as committed (what the package must carry)."""
    tracked = subprocess.run(["git", "ls-files", *CONTRACT_DIRS], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    return set(tracked) if tracked else {str(p.relative_to(ROOT)) for d in CONTRACT_DIRS for p in (ROOT / d).rglob("*")
                                         if p.is_file()}


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    print(f"$ {' '.join(args)}  (in {cwd})\n{result.stdout}{result.stderr}")
    return result


@dataclass
class Installed:
    dist: Path
    wheel: Path
    sdist: Path
    venv: Path
    empty: Path  # the directory every command runs in
    env: dict[str, str]

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def run(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return run([*args], self.empty, self.env, timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("installed")
    dist, empty = base / "dist", base / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    built = run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)], base, env)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,), (sdist,) = dist.glob("*.whl"), dist.glob("*.tar.gz")
    venv.create(base / "venv", with_pip=True)
    env["PATH"] = f"{base / 'venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    tool = Installed(dist, wheel, sdist, base / "venv", empty, env)
    # pytest is the user's own: the plugin is for their suite
    pip = tool.run(tool.bin("python"), "-m", "pip", "install", "--quiet", str(wheel), "pytest")
    assert pip.returncode == 0, pip.stderr[-3000:]
    return tool


def test_the_wheel_carries_the_whole_contract_and_nothing_outside_the_package(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    shipped = {n.removeprefix("harness/contract/") for n in names if n.startswith("harness/contract/")}
    assert _repo_contract_files() <= shipped
    assert {"harness/py.typed", "harness/contract/__init__.py"} <= names
    assert all(n.startswith(("harness/", "sunbird_ekool_harness-")) for n in names), sorted(names)
    metadata = zipfile.ZipFile(installed.wheel).read(f"sunbird_ekool_harness-{__version__}.dist-info/METADATA")
    for line in (b"License-Expression: MIT", b"Project-URL: Source", b"Classifier: Typing :: Typed"):
        assert line in metadata


def test_the_sdist_carries_the_contract_at_the_top_and_in_the_package(installed: Installed) -> None:
    with tarfile.open(installed.sdist) as archive:
        members = {m.name.split("/", 1)[1]: m for m in archive.getmembers() if "/" in m.name}
    for name in _repo_contract_files():
        assert members[name].isfile(), name
        assert members[f"harness/contract/{name}"].isfile(), f"harness/contract/{name}"  # copies, not links
    assert "LICENSE" in members and "pyproject.toml" in members


def test_the_installed_tool_is_the_one_that_runs(installed: Installed) -> None:
    version = installed.run("harness", "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"harness {__version__}"
    where = installed.run(installed.bin("python"), "-c", "import harness; print(harness.__file__)")
    assert Path(where.stdout.strip()).is_relative_to(installed.venv)


@pytest.fixture(scope="module")
def server(installed: Installed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessServer]:
    with ProcessServer(tmp_path_factory.mktemp("installed-state"), 1, None, command=[installed.bin("harness")],
                       cwd=installed.empty, env=installed.env) as live:
        yield live


def test_serve_answers_health_a_sunbird_register_and_an_ekool_code_flow(installed: Installed,
                                                                         server: ProcessServer) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.get("/__harness/health").json() == {"status": "ok", "apis": ["sunbird", "ekool"]}
        bearer = installed.run("harness", "token", "generate", "--key", "mobile_app_key",
                               "--secret", "mobile_app_secret").stdout.strip()
        register = http.post("/api/api-manager/v2/consumer/mobile_device/credential/register",
                             headers={"Authorization": f"Bearer {bearer}"}, json={"request": {"key": "wheel-device"}})
        assert register.status_code == 200, register.text
        token = register.json()["result"]["token"]
        assert jwt.get_unverified_header(token)["alg"] == "RS256"
        assert jwt.decode(token, options={"verify_signature": False})["iss"] == "wheel-device"

        query = urlencode({"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI,
                           "scope": "users-basic", "state": "wheel"})
        back = authorize_via_forms(http, f"/oauth/authorize?{query}", REDIRECT_URI, "mari", "mari")
        assert back.params["state"] == "wheel"
        tokens = http.post("/oauth/token", data={"grant_type": "authorization_code", "client_id": CLIENT_ID,
                                                 "client_secret": CLIENT_SECRET, "redirect_uri": REDIRECT_URI,
                                                 "code": back.params["code"]})
        assert tokens.status_code == 200, tokens.text
        basic = http.get("/user/me/basic", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"})
        assert basic.status_code == 200 and basic.json()["status"] is True


def test_conform_passes_against_the_installed_server(installed: Installed, server: ProcessServer) -> None:
    report = installed.empty / "conformance.json"
    result = installed.run("harness", "conform", "--api", "all", "--target", server.url, "--max-examples", "10",
                           "--json", str(report))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    document = json.loads(report.read_text())
    totals = document["totals"]
    assert document["passed"] and totals["failures"] == 0
    assert totals["rules"] > 0 and totals["fixtures"] > 0 and totals["spec_checks"] > 0


def test_postman_export_writes_the_committed_collections(installed: Installed, tmp_path: Path) -> None:
    out = tmp_path / "collections"
    result = installed.run("harness", "postman", "export", "--out", str(out))
    assert result.returncode == 0, result.stderr
    for path in sorted((ROOT / "postman").glob("*.json")):
        assert (out / path.name).read_text() == path.read_text(), path.name


def test_a_users_pytest_file_gets_the_plugins_fixtures(installed: Installed) -> None:
    suite = installed.empty / "users_suite"
    suite.mkdir()
    (suite / "test_my_client.py").write_text(textwrap.dedent('''
        import requests

        def test_offline_refresh(harness_mock, harness_tokens):
            token = harness_tokens.sunbird_device_token()
            r = requests.post("https://staging.open-sunbird.org/api/auth/v1/refresh/token",
                              headers={"Authorization": f"Bearer {token}"},
                              data={"refresh_token": harness_tokens.realm_refresh_token()})
            assert r.status_code == 200 and r.json()["result"]["access_token"]

        def test_ekool_tokens(harness_tokens):
            assert harness_tokens.ekool_tokens(user="mari", scopes=["users-basic"])["access_token"]

        def test_live(harness_server):
            assert requests.get(f"{harness_server.url}/__harness/health", timeout=10).ok
    '''))
    result = run([installed.bin("python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", str(suite)], suite,
                 installed.env)
    assert result.returncode == 0, result.stdout[-4000:]
    assert "3 passed" in result.stdout


def test_the_installed_tool_prints_and_checks_its_example_config_and_serves_it(installed: Installed,
                                                                               tmp_path: Path) -> None:
    example = installed.run("harness", "config", "example")
    assert example.returncode == 0 and "[[ekool.clients]]" in example.stdout
    config = installed.empty / "harness.toml"
    config.write_text(example.stdout, encoding="utf-8")
    checked = installed.run("harness", "config", "check", str(config))
    assert checked.returncode == 0, checked.stderr
    with ProcessServer(tmp_path / "state", 1, None, "--config", str(config), command=[installed.bin("harness")],
                       cwd=installed.empty, env=installed.env) as live, httpx.Client(base_url=live.url) as http:
        refused = http.get("/oauth/authorize", params={"response_type": "code", "client_id":
                           "myspa0000000000000000000000000002", "redirect_uri": "http://localhost:3000/callback"})
        assert refused.status_code == 400 and refused.json()["hint"] == \
            "Code challenge must be provided for public clients"


def test_the_installed_proxy_judges_traffic_to_the_installed_server(installed: Installed, server: ProcessServer,
                                                                   tmp_path: Path) -> None:
    port = free_port()
    report = installed.empty / "proxy.json"
    proxy = subprocess.Popen([installed.bin("harness"), "proxy", "--target", server.url, "--port", str(port),
                              "--json", str(report), "--duration", "6", "--fail-on-violation"],
                             cwd=installed.empty, env=installed.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        wait_listening("127.0.0.1", port, timeout=30)
        assert httpx.get(f"http://127.0.0.1:{port}/.well-known/jwks.json").status_code == 200
        _, err = proxy.communicate(timeout=60)
    finally:
        if proxy.poll() is None:
            proxy.kill()
            proxy.wait()
    assert proxy.returncode == 0, err
    assert json.loads(report.read_text())["exchanges"] == 1


def test_the_postgresql_store_asks_for_its_extra_then_serves_replicas_once_installed(
        installed: Installed, store_url: str, tmp_path: Path) -> None:
    without = installed.run("harness", "store", "check", "--store", store_url)
    assert without.returncode == 2, without.stderr
    assert "pip install 'sunbird-ekool-harness[postgresql]'" in without.stderr and "Traceback" not in without.stderr
    extra = installed.run(installed.bin("python"), "-m", "pip", "install", "--quiet", f"{installed.wheel}[postgresql]")
    assert extra.returncode == 0, extra.stderr[-3000:]
    assert installed.run("harness", "store", "check", "--store", store_url).returncode == 0
    servers = [ProcessServer(tmp_path / str(n), 1, None, "--store", store_url, command=[installed.bin("harness")],
                             cwd=installed.empty, env=installed.env) for n in range(2)]
    try:
        for server in servers:
            server.start()
        bearer = {"Authorization": f"Bearer {gateway_bearer('mobile_app')}"}
        path = "/api/api-manager/v1/consumer/mobile_device/credential/register"
        secrets = {httpx.post(s.url + path, headers=bearer, json={"request": {"key": "wheel-replica"}}
                              ).json()["result"]["secret"] for s in servers}
        assert len(secrets) == 1, "both instances of the installed tool answer from one store"
    finally:
        for server in servers:
            server.stop()
