"""A reference server for conformance tests, built with only the API packages the test needs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness.server import create_app
from harness.settings import Settings
from harness.testing.live import ThreadedServer


@pytest.fixture
def reference(state_dir: Path) -> Callable[..., ThreadedServer]:
    """`with reference("sunbird", "ekool") as server:` the reference app on a free 127.0.0.1 port."""

    @contextmanager
    def serve(*apis: str) -> Iterator[ThreadedServer]:
        app = create_app(Settings(state_dir=state_dir, log_level="warning"), apis=apis)
        with ThreadedServer(app) as server:
            yield server

    return serve  # type: ignore[return-value]
