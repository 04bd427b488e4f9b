"""CORS for a browser app on another origin (issue 14): preflights answered on every path, the caller's origin
named on every answer, `--cors off` and `--cors-origins` (`harness.cors`). The Chromium proof across origins is
tests/test_cors_browser.py."""

from __future__ import annotations

import subprocess
import sys

import pytest
from starlette.testclient import TestClient

from harness.cors import parse_origins
from harness.testing.live import free_port

APP_ORIGIN = "http://localhost:5173"
# (method, path) of every kind of path: Sunbird under both mounts, the token and authorize endpoints, the
# resources, JWKS and realm endpoints, the admin API, the published specs
PATHS = [
    ("POST", "/api/api-manager/v2/consumer/mobile_device/credential/register"),
    ("POST", "/api-manager/v1/consumer/mobile_app/credential/register"),
    ("POST", "/api/auth/v1/refresh/token"),
    ("POST", "/auth/realms/sunbird/protocol/openid-connect/token"),
    ("GET", "/auth/realms/sunbird/protocol/openid-connect/certs"),
    ("POST", "/oauth/token"),
    ("GET", "/oauth/authorize"),
    ("GET", "/user/me/basic"),
    ("GET", "/generaldata"),
    ("GET", "/.well-known/jwks.json"),
    ("POST", "/__harness/reset"),
    ("GET", "/__harness/health"),
    ("GET", "/ekool/openapi.json"),
]


def preflight(client: TestClient, path: str, method: str, origin: str = APP_ORIGIN):
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                         "Access-Control-Request-Headers": "authorization, content-type"})


@pytest.mark.parametrize(("method", "path"), PATHS)
def test_every_path_answers_a_preflight_with_204_and_what_was_asked(client, method, path):
    answer = preflight(client, path, method)
    assert answer.status_code == 204, answer.text
    assert answer.headers["access-control-allow-origin"] == APP_ORIGIN
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert answer.headers["access-control-allow-methods"] == method
    assert answer.headers["access-control-allow-headers"] == "authorization, content-type"
    assert "Origin" in answer.headers["vary"]


@pytest.mark.parametrize("path", ["/user/me/basic", "/oauth/token", "/api/auth/v1/refresh/token", "/nowhere"])
def test_every_answer_names_the_origin_and_exposes_the_headers_a_client_reads(client, path):
    """Error answers too: an app must read the 401's `WWW-Authenticate` and the token error body."""
    answer = client.request("GET" if path in ("/user/me/basic", "/nowhere") else "POST", path,
                            headers={"Origin": APP_ORIGIN})
    assert answer.status_code >= 400
    assert answer.headers["access-control-allow-origin"] == APP_ORIGIN
    assert answer.headers["access-control-allow-credentials"] == "true"
    exposed = {name.strip().lower() for name in answer.headers["access-control-expose-headers"].split(",")}
    assert {"www-authenticate", "cache-control", "pragma", "location"} <= exposed


def test_a_request_without_origin_gets_no_cors_header(client):
    answer = client.get("/user/me/basic")
    assert answer.status_code == 401 and not [h for h in answer.headers if h.startswith("access-control-")]
    assert client.options("/user/me/basic").status_code == 405, "a bare OPTIONS is no preflight"


def test_cors_off_answers_no_preflight_and_no_cors_header(make_app):
    with TestClient(make_app(cors=False), base_url="http://127.0.0.1:8000") as client:
        answer = preflight(client, "/user/me/basic", "GET")
        assert answer.status_code == 405 and "access-control-allow-origin" not in answer.headers
        answer = client.get("/user/me/basic", headers={"Origin": APP_ORIGIN})
        assert answer.status_code == 401 and "access-control-allow-origin" not in answer.headers


def test_listed_origins_only(make_app):
    app = make_app(cors_origins=("http://localhost:3000", APP_ORIGIN))
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        assert preflight(client, "/oauth/token", "POST").status_code == 204
        assert client.get("/generaldata", headers={"Origin": "http://localhost:3000"}).headers[
            "access-control-allow-origin"] == "http://localhost:3000"
        other = preflight(client, "/oauth/token", "POST", origin="http://evil.example")
        assert other.status_code == 405 and "access-control-allow-origin" not in other.headers
        answer = client.get("/generaldata", headers={"Origin": "http://localhost:3001"})
        assert not [h for h in answer.headers if h.startswith("access-control-")]


def test_origins_are_parsed_exactly():
    assert parse_origins("http://localhost:3000, http://localhost:5173/") == ("http://localhost:3000",
                                                                                "http://localhost:5173")
    assert parse_origins("") == ()
    for bad in ("localhost:3000", "http://localhost:3000/app", "ftp://x"):
        with pytest.raises(ValueError, match="is not an origin"):
            parse_origins(bad)


@pytest.mark.parametrize(("flags", "message"), [
    (["--cors", "maybe"], "--cors 'maybe': use on or off"),
    (["--cors-origins", "localhost:3000"], "'localhost:3000' is not an origin"),
])
def test_serve_refuses_bad_cors_flags_with_exit_2(tmp_path, flags, message):
    result = subprocess.run([sys.executable, "-m", "harness", "serve", "--port", str(free_port()), "--state",
                             str(tmp_path), *flags], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split()) and "Traceback" not in result.stderr
