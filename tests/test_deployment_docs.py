"""The deployment recipes in docs/deploy, checked where they can be here: no container runtime or cluster, so
the commands and environment they give are run as processes, against a throwaway PostgreSQL (the Secret's URL)
and on loopback instead of 0.0.0.0:8000."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from harness.testing.live import ProcessServer, free_port

DEPLOY = Path(__file__).resolve().parent.parent / "docs" / "deploy"
HARNESS = [sys.executable, "-m", "harness"]


def _manifests() -> dict[str, dict]:
    return {doc["kind"]: doc for doc in yaml.safe_load_all((DEPLOY / "kubernetes.yaml").read_text())}


def _env(container: dict, secret_url: str) -> dict[str, str]:
    env = {}
    for item in container.get("env", []):
        if "valueFrom" in item:
            assert item["valueFrom"]["secretKeyRef"] == {"name": "harness-store", "key": "url"}
            env[item["name"]] = secret_url
        else:
            env[item["name"]] = item["value"]
    return env


def _on_loopback(command: list[str], port: int) -> list[str]:
    args = [arg for arg in command]
    args[args.index("--host") + 1] = "127.0.0.1"
    args[args.index("--port") + 1] = str(port)
    return args


def test_the_image_runs_the_command_the_deployment_runs():
    cmd = next(line for line in (DEPLOY / "Dockerfile").read_text().splitlines() if line.startswith("CMD "))
    serving = _manifests()["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert json.loads(cmd[4:]) == serving["command"]
    assert serving["ports"][0]["containerPort"] == int(serving["command"][serving["command"].index("--port") + 1])


@pytest.mark.slow
def test_the_deployments_commands_and_environment_serve_replicas_on_one_store(store_url, tmp_path):
    manifests = _manifests()
    pod = manifests["Deployment"]["spec"]["template"]["spec"]
    assert manifests["Service"]["spec"]["selector"] == manifests["Deployment"]["spec"]["selector"]["matchLabels"]
    init = pod["initContainers"][0]
    done = subprocess.run(HARNESS + init["command"][1:], env={**os.environ, **_env(init, store_url)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    serving = pod["containers"][0]
    env = _env(serving, store_url)
    probe = serving["readinessProbe"]["httpGet"]["path"]
    replicas = []
    try:
        for n in range(2):  # the Deployment's replicas, two of them
            port = free_port()
            server = ProcessServer(tmp_path / str(n), 1, port, env={**os.environ, **env})
            server.args = HARNESS + _on_loopback(serving["command"], port)[1:]
            replicas.append(server.start())
        for server in replicas:
            assert httpx.get(server.url + probe).status_code == 200
            issuer = httpx.get(server.url + "/auth/realms/sunbird/.well-known/openid-configuration").json()["issuer"]
            assert issuer == env["HARNESS_PUBLIC_URL"] + "/auth/realms/sunbird"
            assert "store: postgresql://" in server.output(), "HARNESS_STORE from the Secret was used"
    finally:
        for server in replicas:
            server.stop()
