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
