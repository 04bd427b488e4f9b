"""`make test` is the whole set-up: a missing system tool is installed as root, otherwise a clear stop."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _as_unprivileged_user(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    if not shutil.which("runuser"):
        pytest.skip("running as root without runuser: cannot try the unprivileged path")
    return ["runuser", "-u", "nobody", "--", *args]


def _make(*args: str, user: bool = False) -> subprocess.CompletedProcess[str]:
    """Our Makefile's target, read from stdin (an unprivileged user may not read the checkout)."""
    command = ["make", "-s", "-f", "-", *args]
    return subprocess.run(_as_unprivileged_user(command) if user else command, input=(ROOT / "Makefile").read_text(),
                          capture_output=True, text=True, timeout=60, cwd="/")


def test_a_missing_tool_stops_an_unprivileged_make_test_with_the_command_to_run() -> None:
    result = _make("system-tools", "SYSTEM_TOOLS=/nonexistent/harness-tool:harness-pkg", user=True)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "needs the Debian package(s) harness-pkg" in result.stderr
    assert "sudo apt-get update && sudo apt-get install -y harness-pkg" in result.stderr


def test_present_tools_need_nothing() -> None:
    result = _make("system-tools", "SYSTEM_TOOLS=/bin/sh:dash")
    assert result.returncode == 0 and result.stdout == result.stderr == ""
