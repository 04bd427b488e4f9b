"""A short bounded load of mixed real flows on `harness serve --workers 2` (the 60 s run is `python -m bench.load`).

No connection errors, no 5xx, every answer the documented one, and the state consistent afterwards: every
eKool refresh token handed out is valid exactly once, every v1 key kept one secret.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # bench/ is a directory of scripts beside the package, not an installed package
    sys.path.insert(0, str(REPO))

from bench.load import AUTO_LOGIN_USER, run_load  # noqa: E402
from harness.testing.live import ProcessServer, free_port  # noqa: E402

SECONDS = 6.0
USERS = 20
FLOWS = ("sunbird.register_v1", "sunbird.register_v2", "sunbird.refresh", "ekool.code_flow", "ekool.resources",
         "ekool.refresh")


@pytest.mark.slow
def test_mixed_flows_under_load_leave_consistent_state(state_template: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    shutil.copytree(state_template, state)
    server = ProcessServer(state, 2, None, "--auto-login", AUTO_LOGIN_USER).start()
    try:
        report = run_load(server.url, seconds=SECONDS, users=USERS)
    finally:
        output = server.stop()
    print(report.table())
    assert report.problems() == []
    assert "Traceback" not in output, output[-3000:]
    # The run did real work on every flow, and the consistency check looked at real tokens.
    assert all(report.tally.flows[flow] > 0 for flow in FLOWS), dict(report.tally.flows)
    assert report.consistency.checked_rotated > 0 and report.consistency.checked_current > 0
    assert len(report.tally.v1_secrets) > 0


def test_load_refuses_to_leave_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        run_load("http://192.0.2.1:8000", seconds=0.1, users=1)


@pytest.mark.slow
def test_mixed_flows_over_two_instances_on_one_postgresql_leave_consistent_state(store_url: str,
                                                                                  tmp_path: Path) -> None:
    """Every request to the next instance: codes, refresh-token rotation and v1 secrets hold across them."""
    port = free_port()
    common = ("--store", store_url, "--public-url", f"http://127.0.0.1:{port}", "--auto-login", AUTO_LOGIN_USER)
    servers = [ProcessServer(tmp_path / str(n), 1, port if n == 0 else None, *common) for n in range(2)]
    try:
        for server in servers:
            server.start()
        report = run_load(servers[0].url, seconds=SECONDS, users=USERS, instances=[s.url for s in servers])
    finally:
        output = "".join(server.stop() for server in servers)
    print(report.table())
    assert report.problems() == []
    assert "Traceback" not in output, output[-3000:]
    assert all(report.tally.flows[flow] > 0 for flow in FLOWS), dict(report.tally.flows)
    assert report.consistency.checked_rotated > 0 and report.consistency.checked_current > 0
