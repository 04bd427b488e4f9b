"""pytest plugin (entry point `pytest11`): the reference server for users' own test suites.

Fixtures:
- `harness_server`: a live server on a free 127.0.0.1 port for the session; `.url` is its base URL.
- `harness_mock`: no sockets; `requests` calls to the documented hosts are answered in process.
- `harness_transport`: no sockets; an `httpx` transport to the in-process app
  (`httpx.Client(transport=harness_transport, base_url="https://login.ekool.dev")`, any host).
- `harness_tokens`: ready tokens (Sunbird device token, realm refresh token, eKool tokens).
- `harness_clock`: the server's clock (`.advance("13h")`, `.set("2027-01-01T00:00:00Z")`, `.now()`), back to real
  time after the test.
Override `harness_base_urls` (name -> base URL; default: every https host the specs document) to mock others.

Your own clients, users and credentials: the `harness serve --config` file, named by `--harness-config FILE` or
the ini option `harness_config` (relative to the rootdir). A bad file stops the session with its message.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.server import HarnessApp, create_app
from harness.settings import Settings
from harness.testing.clock import HarnessClock
from harness.testing.live import ThreadedServer
from harness.testing.responses_bridge import HarnessMock, documented_base_urls
from harness.testing.tokens import TokenHelper
from harness.testing.transport import ASGIAppTransport


def pytest_addoption(parser: pytest.Parser) -> None:
    help_text = "TOML file of the reference server's own clients, users and credentials (harness serve --config)"
    parser.addoption("--harness-config", metavar="FILE", default=None, help=help_text)
    parser.addini("harness_config", help_text + "; relative to the rootdir", default="")


def _settings(config: pytest.Config, state: Path) -> Settings:
    settings = Settings(state_dir=state)
    option = config.getoption("--harness-config")
    path = Path(option) if option else (config.rootpath / config.getini("harness_config")
                                        if config.getini("harness_config") else None)
    if path is None:
        return settings
    from harness.plugins import load_plugins
    from harness.userdata import DataFileError, load_data_config

    try:
        return load_data_config(path, load_plugins()).applied_to(settings)
    except DataFileError as exc:
        raise pytest.UsageError(f"harness config: {exc}") from None


@pytest.fixture(scope="session")
def harness_app(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> HarnessApp:
    """The reference app on a state directory private to this test session (with the `harness_config` data)."""
    state: Path = tmp_path_factory.mktemp("harness-state")
    return create_app(_settings(pytestconfig, state))


@pytest.fixture(scope="session")
def harness_server(harness_app: HarnessApp) -> Iterator[ThreadedServer]:
    with ThreadedServer(harness_app) as server:
        yield server


@pytest.fixture
def harness_base_urls() -> dict[str, str]:
    return documented_base_urls()


@pytest.fixture
def harness_mock(harness_app: HarnessApp, harness_base_urls: dict[str, str]) -> Iterator[HarnessMock]:
    with HarnessMock(harness_app, harness_base_urls) as mock:
        yield mock


@pytest.fixture
def harness_transport(harness_app: HarnessApp) -> Iterator[ASGIAppTransport]:
    with ASGIAppTransport(harness_app) as transport:
        yield transport


@pytest.fixture
def harness_tokens(harness_app: HarnessApp) -> Iterator[TokenHelper]:
    with TokenHelper.in_process(harness_app) as helper:
        yield helper


@pytest.fixture
def harness_clock(harness_app: HarnessApp) -> Iterator[HarnessClock]:
    clock = HarnessClock(harness_app.ctx.clock)
    try:
        yield clock
    finally:
        clock.reset()
