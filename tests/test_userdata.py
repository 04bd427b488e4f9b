"""The `harness serve --config` file (issue 14): the example loads; a bad file stops `harness serve` with exit 2
and a message naming the file, line, key and what is wrong, before anything is loaded; the data is seeded once
per state directory and content, and by a reset; the pytest plugin takes the same file."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.resources import files
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from harness.apis.ekool.demo import load_demo
from harness.plugins import load_plugins
from harness.server import create_app
from harness.settings import Settings
from harness.testing.live import free_port
from harness.userdata import DataFileError, load_data_config

EXAMPLE = files("harness").joinpath("examples/harness.toml").read_text(encoding="utf-8")
CLIENT = """
[[ekool.clients]]
id = "myapp0000000000000000000000000001"
secret = "mysecret"
redirect_uris = ["http://localhost:5173/callback"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "harness.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(DataFileError) as caught:
        load_data_config(write(tmp_path, text), load_plugins())
    return str(caught.value)


def test_the_example_file_has_every_kind_of_entry_and_loads(tmp_path):
    config = load_data_config(write(tmp_path, EXAMPLE), load_plugins())
    assert config.include_demo is True
    assert config.lifetimes == {"ekool_access": 3600, "ekool_refresh": 30 * 86400, "ekool_code": 600,
                                "sunbird_realm_access": 300, "sunbird_realm_refresh": 1800}
    ekool, sunbird = config.api_data["ekool"], config.api_data["sunbird"]
    assert [c["secret"] is None for c in ekool["clients"]] == [False, True]
    assert ekool["users"][0]["schools"][0]["name"] == "Pärnu Koidula Gümnaasium"
    assert ekool["users"][0]["id"] == 100003  # the next free id after the demo users
    assert sunbird["credentials"] == [{"consumer": "my_app", "key": "my_app_key", "secret": "my_app_secret"}]
    assert {c["name"]: c["groups"] for c in sunbird["consumers"]} == {
        "my_device": ["refreshTokenCreate"], "my_app": ["mobileAdmin"]}
    assert sunbird["realm_users"][0]["realm_roles"] == ["offline_access", "uma_authorization"]
    assert sunbird["realm_clients"] == ["my-portal"]


BAD_FILES = {
    "syntax error": ("[[ekool.clients]]\nid = \"a\"\nsecret = \n",
                     "harness.toml:3: not valid TOML: Invalid value (at line 3, column 10)"),
    "unknown key": (CLIENT + "secrte = \"x\"\n",
                    "harness.toml:6: ekool.clients[0].secrte: unknown key (known: id, secret, public, name, "
                    "redirect_uris, scopes)"),
    "redirect URI not a URI": (CLIENT.replace("http://localhost:5173/callback", "localhost:5173/callback"),
                               "harness.toml:5: ekool.clients[0].redirect_uris[0]: 'localhost:5173/callback' is not "
                               "an absolute URI: it has no scheme (e.g. http://localhost:5173/callback)"),
    "duplicate client": (CLIENT + CLIENT,
                         "harness.toml:8: ekool.clients[1].id: 'myapp0000000000000000000000000001' is already "
                         "defined at ekool.clients[0] (one entry per id)"),
    "unknown table": ("[ekol]\nclients = []\n", "harness.toml:1: ekol: unknown table (known: demo, lifetimes, "
                      "sunbird, ekool)"),
    "unknown lifetime": ("[lifetimes]\nekool_acess = \"1h\"\n",
                         "harness.toml:2: lifetimes.ekool_acess: unknown lifetime (known: sunbird_realm_access, "
                         "sunbird_realm_refresh, ekool_access, ekool_refresh, ekool_code)"),
    "bad duration": ("[lifetimes]\nekool_access = \"1 hour\"\n",
                     "harness.toml:2: lifetimes.ekool_access: '1 hour' is not a duration"),
    "zero lifetime": ("[lifetimes]\nekool_access = 0\n",
                      "harness.toml:2: lifetimes.ekool_access: 0 must be at least 1 second and at most 10 years"),
    "unknown scope": (CLIENT + "scopes = [\"users-basic\", \"users-all\"]\n",
                      "harness.toml:6: ekool.clients[0].scopes[1]: 'users-all' is not one of users-basic, "
                      "users-roles, users-schools, users-children"),
    "public with a secret": (CLIENT + "public = true\n",
                             "harness.toml:4: ekool.clients[0].secret: a public client has no secret"),
    "confidential without a secret": (CLIENT.replace('secret = "mysecret"\n', ""),
                                      "harness.toml:2: ekool.clients[0].secret: is missing (or set public = true"),
    "http URI without a host": (CLIENT.replace("http://localhost:5173/callback", "http:/callback"),
                                "an http(s) URI needs a host"),
    "a fragment": (CLIENT.replace("/callback", "/callback#x"), "is not an absolute URI without a fragment"),
    "wrong type": (CLIENT.replace('["http://localhost:5173/callback"]', '"http://localhost:5173/callback"'),
                   "harness.toml:5: ekool.clients[0].redirect_uris: 'http://localhost:5173/callback' is not of "
                   "type 'array'"),
    "missing key": ("[[ekool.users]]\nusername = \"kati\"\npassword = \"kati\"\nfirst_name = \"Kati\"\n",
                    "harness.toml:1: ekool.users[0]: 'last_name' is missing"),
    "unknown school": ("[[ekool.users]]\nusername = \"k\"\npassword = \"k\"\nfirst_name = \"K\"\nlast_name = \"K\"\n"
                       "schools = [\"9\"]\n", "harness.toml:6: ekool.users[0].schools[0]: no school '9' (known: "
                       "2301, 2457"),
    "a user's role off the spec": ("[[ekool.users]]\nusername = \"k\"\npassword = \"k\"\nfirst_name = \"K\"\n"
                                   "last_name = \"K\"\nroles = [{ role_id = \"1\", type_id = \"4\" }]\n",
                                   "harness.toml:6: ekool.users[0].roles[0]: 'role_name' is missing"),
    "a taken user id": ("[[ekool.users]]\nusername = \"k\"\npassword = \"k\"\nfirst_name = \"K\"\n"
                        "last_name = \"K\"\nid = 100002\n",
                        "harness.toml:6: ekool.users[0].id: 100002 is already user 'juhan''s id"),
    "unknown group": ("[[sunbird.credentials]]\nconsumer = \"a\"\nkey = \"k\"\nsecret = \"s\"\n"
                      "groups = [\"mobileadmin\"]\n", "harness.toml:5: sunbird.credentials[0].groups[0]: "
                      "'mobileadmin' is not one of "),
    "duplicate key": ("[[sunbird.credentials]]\nconsumer = \"a\"\nkey = \"k\"\nsecret = \"s\"\n" * 2,
                      "harness.toml:7: sunbird.credentials[1].key: 'k' is already defined at "
                      "sunbird.credentials[0] (keys are unique)"),
    "a key that is a signing key": ("[[sunbird.credentials]]\nconsumer = \"a\"\nkey = \"accessv2_key1\"\n"
                                    "secret = \"s\"\n", "harness.toml:3: sunbird.credentials[0].key: "
                                    "'accessv2_key1' is consumer 'access''s v2 signing key id"),
    "two groups for one consumer": ("[[sunbird.credentials]]\nconsumer = \"a\"\nkey = \"k1\"\nsecret = \"s\"\n"
                                    "groups = [\"mobileAdmin\"]\n[[sunbird.credentials]]\nconsumer = \"a\"\n"
                                    "key = \"k2\"\nsecret = \"s\"\ngroups = [\"desktopAdmin\"]\n",
                                    "harness.toml:10: sunbird.credentials[1].groups: consumer 'a' has groups "
                                    "['mobileAdmin'] at sunbird.credentials[0]"),
    "demo not a table": ("demo = true\n", "harness.toml: demo: must be a table"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_a_bad_file_is_refused_with_its_line_key_and_problem(tmp_path, case):
    text, message = BAD_FILES[case]
    assert message in error_of(tmp_path, text).replace(str(tmp_path) + "/", "")


def test_serve_with_a_bad_file_exits_2_naming_it_and_touches_no_state(tmp_path):
    bad = write(tmp_path, CLIENT + CLIENT)
    state = tmp_path / "state"
    result = subprocess.run([sys.executable, "-m", "harness", "serve", "--port", str(free_port()), "--state",
                             str(state), "--config", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert f"error: {bad}:8: ekool.clients[1].id:" in " ".join(result.stderr.split()) or \
        "ekool.clients[1].id" in result.stderr
    assert str(bad) in result.stderr.replace("\n", "") and "Traceback" not in result.stderr
    assert not state.exists()  # nothing half-loaded: the file is checked before the state is opened


def test_config_check_and_example_commands(tmp_path):
    example = subprocess.run([sys.executable, "-m", "harness", "config", "example"], capture_output=True,
                             text=True, timeout=60)
    assert example.returncode == 0 and example.stdout == EXAMPLE
    good = write(tmp_path, EXAMPLE)
    checked = subprocess.run([sys.executable, "-m", "harness", "config", "check", str(good)], capture_output=True,
                             text=True, timeout=60)
    assert checked.returncode == 0 and "ekool: 2 clients, 1 users" in checked.stdout
    bad = write(tmp_path, "[lifetimes]\nekool_access = \"soon\"\n")
    refused = subprocess.run([sys.executable, "-m", "harness", "config", "check", str(bad)], capture_output=True,
                             text=True, timeout=60)
    assert refused.returncode == 2 and "lifetimes.ekool_access: 'soon' is not a duration" in refused.stderr


def test_data_is_seeded_once_per_content_and_again_by_a_reset(state_dir, tmp_path):
    settings = Settings(state_dir=state_dir)
    configured = load_data_config(write(tmp_path, CLIENT), load_plugins()).applied_to(settings)
    store_of = create_app(configured).ctx.store
    count = "SELECT COUNT(*) FROM ekool_clients"
    demo_clients = len(load_demo()[0])
    assert store_of.one(count)[0] == demo_clients + 1
    store_of.execute("INSERT INTO ekool_auth_codes (code_hash, client_id, user_id, scopes, expires_at) "
                     "VALUES ('h', 'c', 1, '[]', 0)")
    again = create_app(configured).ctx.store  # the same data: a restart keeps codes and tokens
    assert again.one("SELECT COUNT(*) FROM ekool_auth_codes")[0] == 1
    demo_only = create_app(settings).ctx.store  # back to the demo data alone: seeded again
    assert demo_only.one(count)[0] == demo_clients and demo_only.one("SELECT COUNT(*) FROM ekool_auth_codes")[0] == 0
    app = create_app(configured)
    app.ctx.store.execute("DELETE FROM ekool_clients")
    with TestClient(app) as client:
        assert client.post("/__harness/reset").status_code == 200
    assert app.ctx.store.one("SELECT id FROM ekool_clients WHERE id = 'myapp0000000000000000000000000001'")


def test_the_pytest_plugin_takes_the_same_file(tmp_path):
    write(tmp_path, CLIENT)
    (tmp_path / "test_own.py").write_text(textwrap.dedent("""
        import httpx

        def test_my_client_is_known(harness_transport):
            with httpx.Client(transport=harness_transport, base_url="https://login.ekool.dev") as http:
                answer = http.get("/oauth/authorize", params={"response_type": "code", "client_id":
                    "myapp0000000000000000000000000001", "redirect_uri": "http://localhost:5173/callback"})
            assert answer.status_code == 302 and answer.headers["location"].endswith("/login")
    """), encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\nharness_config = harness.toml\n", encoding="utf-8")
    run = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_own.py")]
    passed = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    write(tmp_path, CLIENT + CLIENT)
    refused = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "ekool.clients[1].id" in refused.stdout + refused.stderr
    flag = subprocess.run([*run, "--harness-config", str(tmp_path / "none.toml")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert flag.returncode != 0 and "cannot read the config file" in flag.stdout + flag.stderr


@pytest.mark.slow
def test_two_workers_serve_the_configured_data_and_lifetimes(tmp_path):
    import httpx

    from harness.testing.live import ProcessServer

    config = write(tmp_path, CLIENT + "[lifetimes]\nsunbird_realm_access = \"2m\"\n")
    with ProcessServer(tmp_path / "state", 2, None, "--config", str(config)) as server:
        for _ in range(6):  # new connections: spread over both workers
            with httpx.Client(base_url=server.url) as http:
                answer = http.get("/oauth/authorize", params={"response_type": "code", "client_id":
                                  "myapp0000000000000000000000000001", "redirect_uri": "http://localhost:5173/callback"})
                assert answer.status_code == 302 and answer.headers["location"] == "/login"
                realm = http.post("/auth/realms/sunbird/protocol/openid-connect/token", data={
                    "grant_type": "password", "client_id": "android", "username": "learner", "password": "learner"})
                assert realm.json()["expires_in"] == 120
        assert "secret from" in server.output() and "mysecret" not in server.output()


def test_the_readmes_toml_example_loads(tmp_path):
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = readme.split("```toml\n")[1:]
    assert blocks, "the README shows a config file"
    for block in blocks:
        config = load_data_config(write(tmp_path, block.split("```")[0]), load_plugins())
        assert config.api_data["ekool"]["clients"][0]["secret"] is None
