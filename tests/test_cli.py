"""`harness` command line: help, serve start-up errors, banner, workers, clean shutdown."""

from __future__ import annotations

import socket
import subprocess
import sys

import httpx

from harness.testing.live import ProcessServer, free_port


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=timeout)


def test_help_lists_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("serve", "token"):
        assert command in result.stdout


def test_serve_refuses_a_taken_port_with_a_message(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = run_cli("serve", "--port", str(port), "--state", str(tmp_path))
    assert result.returncode == 2
    assert f"port {port}" in result.stderr and "already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_an_unwritable_state_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli("serve", "--port", str(free_port()), "--state", str(blocker / "state"))
    assert result.returncode == 2
    assert "not writable" in result.stderr and "Traceback" not in result.stderr


def test_serve_prints_banner_answers_and_stops_cleanly(tmp_path):
    server = ProcessServer(tmp_path, workers=1)
    server.start()
    try:
        assert httpx.get(f"{server.url}/__harness/health").json()["status"] == "ok"
    finally:
        output = server.stop()
    assert f"Harness listening on {server.url}" in output
    assert str(tmp_path) in output
    assert "Traceback" not in output


def test_access_log_has_one_line_per_request_and_no_secrets(tmp_path):
    secret = "QuerySecretValue123"
    server = ProcessServer(tmp_path, 1, None)
    server.args[server.args.index("warning")] = "info"
    server.start()
    try:
        httpx.get(f"{server.url}/oauth/authorize", params={"response_type": "code", "client_secret": secret,
                                                          "client_id": "ekooldemoclient00000000000000001"})
        httpx.post(f"{server.url}/oauth/token", data={"grant_type": "refresh_token", "refresh_token": secret})
    finally:
        output = server.stop()
    assert '"GET /oauth/authorize?response_type=code&client_secret=[redacted]' in output
    assert '"POST /oauth/token HTTP/1.1" 400' in output or '"POST /oauth/token HTTP/1.1" 401' in output
    assert secret not in output


def test_redact_query_keeps_harmless_parameters():
    from harness.logs import redact_query

    assert redact_query("/cb?code=abc&state=xyz") == "/cb?code=[redacted]&state=xyz"
    assert redact_query("/x?Password=p&scope=users-basic") == "/x?Password=[redacted]&scope=users-basic"
    assert redact_query("/oauth/authorize?client_id=c") == "/oauth/authorize?client_id=c"
