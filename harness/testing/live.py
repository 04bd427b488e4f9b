"""Run the reference server for a test: in a thread (one worker) or as a `harness serve` subprocess."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import httpx
import uvicorn


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (Linux /proc): the uvicorn workers of `harness serve --workers N`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def wait_healthy(url: str, timeout: float = 20.0, process: subprocess.Popen[Any] | None = None,
                 poll: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/__harness/health", timeout=1.0).status_code == 200:
                return
        time.sleep(poll)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def wait_listening(host: str, port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.01)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


class ThreadedServer:
    """uvicorn serving an app in a background thread of this process."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int | None = None, healthy: bool = True) -> None:
        """`healthy`: start() waits for a 200 at /__harness/health; False, only for the port to accept."""
        self.host = host
        self.port = port or free_port(host)
        self.healthy = healthy
        config = uvicorn.Config(app, host=host, port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="harness-server")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ThreadedServer:
        self._thread.start()
        if self.healthy:
            wait_healthy(self.url)
        else:
            wait_listening(self.host, self.port)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ProcessServer:
    """`harness serve` in a child process (for `--workers N`, restarts and CLI behaviour)."""

    def __init__(self, state_dir: Path, workers: int = 1, port: int | None = None, *extra: str,
                 command: Sequence[str] = (sys.executable, "-m", "harness"), cwd: Path | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        """`command` is how `harness` is run (default: this interpreter's); `env` replaces os.environ."""
        self.port = port or free_port()
        self.state_dir = state_dir
        self.args = [
            *command, "serve", "--host", "127.0.0.1", "--port", str(self.port),
            "--state", str(state_dir), "--workers", str(workers), "--log-level", "warning", *extra,
        ]
        self.cwd = cwd
        self.env = dict(os.environ if env is None else env)
        self.process: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> subprocess.Popen[bytes]:
        """Start the child without waiting for it. Its output goes to a temporary file, not a pipe: a pipe
        nobody reads fills up under load (connexion logs every 4xx) and then blocks the server."""
        env = {**self.env, "PYTHONUNBUFFERED": "1"}
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen(self.args, env=env, cwd=self.cwd, stdout=self._output,
                                        stderr=subprocess.STDOUT)
        return self.process

    def start(self) -> ProcessServer:
        process = self.launch()
        try:
            wait_healthy(self.url, timeout=60, process=process)
        except BaseException:
            self.stop()
            raise
        return self

    def output(self) -> str:
        """What the server has printed so far."""
        if self._output is None:
            return ""
        self._output.seek(0)
        return self._output.read().decode(errors="replace")

    def stop(self) -> str:
        """Stop (SIGINT, then kill) and return what the server printed."""
        if self.process is None:
            return ""
        if self.process.poll() is None:
            self.process.send_signal(2)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        output = self.output()
        if self._output is not None:
            self._output.close()
            self._output = None
        self.process = None
        return output

    def __enter__(self) -> ProcessServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

