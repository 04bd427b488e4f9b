"""Ready tokens for tests, obtained the way a client would: over the HTTP API, with the demo data.

Each API plugin names its own helper class (`ApiPlugin.tokens`); `TokenHelper` gives them all on one client:
`helper.<api>.<method>()` (e.g. `helper.sunbird.device_token()`), also spelled `helper.<api>_<method>()`
(`helper.sunbird_device_token()`), or `helper.<method>()` when one API has it (`helper.realm_refresh_token()`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any

import httpx

from harness import plugins


class TokenHelper:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    @classmethod
    @contextmanager
    def in_process(cls, app: Any) -> Iterator[TokenHelper]:
        from starlette.testclient import TestClient

        with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as client:
            yield cls(client)

    @classmethod
    @contextmanager
    def over_http(cls, base_url: str) -> Iterator[TokenHelper]:
        with httpx.Client(base_url=base_url, follow_redirects=False) as client:
            yield cls(client)

    @cached_property
    def helpers(self) -> dict[str, Any]:
        """API name -> that API's helper on this client."""
        return {plugin.name: plugins.import_target(plugin.tokens)(self.client)
                for plugin in plugins.load_plugins() if plugin.tokens}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "helpers":
            raise AttributeError(name)
        helpers = self.helpers
        if name in helpers:
            return helpers[name]
        api, _, method = name.partition("_")
        if api in helpers and hasattr(helpers[api], method):
            return getattr(helpers[api], method)
        owners = [helper for helper in helpers.values() if hasattr(helper, name)]
        if len(owners) == 1:
            return getattr(owners[0], name)
        raise AttributeError(f"no API's token helper has {name!r} (APIs: {', '.join(helpers)})")
