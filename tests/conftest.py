"""Shared test fixtures: a fresh state directory per test (cloned from a session template so RSA keys
are generated once), the in-process app, a TestClient, and live servers on free loopback ports."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from harness.server import HarnessApp, create_app, initialize_state
from harness.settings import Settings
from harness.store import DB_NAME
from harness.testing.live import ThreadedServer
from harness.testing.postgres import ThrowawayPostgres


@pytest.fixture(scope="session")
def state_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state directory initialised once per session: keys generated, demo data seeded."""
    directory = tmp_path_factory.mktemp("state-template")
    app = create_app(Settings(state_dir=directory))
    app.ctx.store.close()
    return directory


@pytest.fixture(scope="session")
def postgres() -> Iterator[ThrowawayPostgres]:
    """A PostgreSQL cluster of this session (Debian's `postgresql`), stopped and deleted at its end."""
    with ThrowawayPostgres() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def pg_template(postgres: ThrowawayPostgres) -> str:
    """A database initialised once (keys, tables, demo data), copied for each test that needs a store."""
    url = postgres.new_database()
    initialize_state(Settings(store_url=url)).store.close()
    return url.rsplit("/", 1)[1]


@pytest.fixture
def store_url(postgres: ThrowawayPostgres, pg_template: str) -> str:
    """This test's own PostgreSQL store: a copy of the initialised template."""
    return postgres.new_database(template=pg_template)


@pytest.fixture
def state_dir(state_template: Path, tmp_path: Path) -> Path:
    directory = tmp_path / "state"
    directory.mkdir()
    with sqlite3.connect(state_template / DB_NAME) as src, sqlite3.connect(directory / DB_NAME) as dst:
        src.backup(dst)
    return directory


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--store-backend", choices=("sqlite", "postgresql"), default="sqlite",
                     help="the store of the in-process apps (make_app, configured_app): a state directory's "
                          "SQLite file, or a copy of an initialised PostgreSQL database per test")


@pytest.fixture
def app_store(request: pytest.FixtureRequest) -> dict[str, str]:
    """Settings fields naming this test's store on the backend `--store-backend` chose."""
    if request.config.getoption("--store-backend") == "postgresql":
        return {"store_url": request.getfixturevalue("store_url")}
    return {}


@pytest.fixture
def built_apps() -> Iterator[list[HarnessApp]]:
    """The apps a test built; their stores are closed after it (a PostgreSQL pool holds connections)."""
    apps: list[HarnessApp] = []
    yield apps
    for built in apps:
        built.ctx.store.close()


@pytest.fixture
def make_app(state_dir: Path, app_store: dict[str, str], built_apps: list[HarnessApp]) -> Callable[..., HarnessApp]:
    """Build the app on this test's state directory; keyword arguments override Settings fields."""

    def build(**overrides: Any) -> HarnessApp:
        overrides.setdefault("validate_responses", True)
        built_apps.append(create_app(Settings(state_dir=state_dir, **{**app_store, **overrides})))
        return built_apps[-1]

    return build


@pytest.fixture
def configured_app(state_dir: Path, tmp_path: Path, app_store: dict[str, str],
                   built_apps: list[HarnessApp]) -> Callable[..., HarnessApp]:
    """Build the app with a `harness serve --config` file of the given text (responses validated)."""
    from harness.plugins import load_plugins
    from harness.userdata import load_data_config

    def build(text: str, **overrides: Any) -> HarnessApp:
        path = tmp_path / "harness.toml"
        path.write_text(text, encoding="utf-8")
        overrides.setdefault("validate_responses", True)
        settings = Settings(state_dir=state_dir, **{**app_store, **overrides})
        built_apps.append(create_app(load_data_config(path, load_plugins()).applied_to(settings)))
        return built_apps[-1]

    return build


@pytest.fixture
def app(make_app: Callable[..., HarnessApp]) -> HarnessApp:
    return make_app()


@pytest.fixture
def client(app: HarnessApp) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


@pytest.fixture
def live_server(app: HarnessApp) -> Iterator[ThreadedServer]:
    """The app served by uvicorn on a free 127.0.0.1 port, stopped at the end of the test."""
    with ThreadedServer(app) as server:
        yield server
