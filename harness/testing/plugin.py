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


@pytest.fixture(scope="session")
def harness_app(tmp_path_factory: pytest.TempPathFactory) -> HarnessApp:
    """The reference app on a state directory private to this test session."""
    state: Path = tmp_path_factory.mktemp("harness-state")
    return create_app(Settings(state_dir=state))


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
