"""The contract is clean under the plain schemathesis CLI, as a user runs it on our spec against `harness serve`:
every check (`--checks all`), every default phase, no credentials; 0 failures (issue 13). The eKool login and
consent pages are the server's own (`openapi/mock/ekool.yaml`), outside the contract, so the run never posts to
them, and the methods the contract does not list on its paths answer 405."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.plugins import get
from harness.testing.live import ThreadedServer

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.mark.parametrize("api", ["sunbird", "ekool"])
def test_the_plain_schemathesis_cli_finds_no_failure(make_app, tmp_path: Path, api: str) -> None:
    plugin = get(api)
    with ThreadedServer(make_app(validate_responses=False)) as server:
        run = subprocess.run(
            [str(SCHEMATHESIS), "run", str(plugin.spec_file), "--url", server.url + plugin.base_paths[0],
             "--checks", "all", "--max-examples", "10", "--seed", "20261202", "--no-color"],
            capture_output=True, text=True, timeout=300, cwd=tmp_path)  # its cache goes there
    summary = run.stdout[-3000:]
    assert run.returncode == 0, summary + run.stderr[-2000:]
    assert "Tested: " in summary and " passed" in summary and "failure" not in summary.lower(), summary
