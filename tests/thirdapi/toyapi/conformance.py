"""The toy API's conformance half: its `[toy]` config table and its client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from harness.conformance.apis import ConformanceApi
from harness.conformance.config import ConformConfig, check_keys
from harness.conformance.transport import Transport


@dataclass(frozen=True)
class ToyConfig:
    prefix: str = "/toy"


class ToyClient:
    def __init__(self, config: ConformConfig, transport: Transport) -> None:
        self.config, self.http, self.toy = config, transport, config.toy

    def url(self, path: str) -> str:
        return f"{self.toy.prefix}{path}"

    def schema_targets(self) -> list[tuple[str, Any]]:
        return [(self.config.base_url + self.toy.prefix, lambda schema: schema)]

    def identity_for(self, case: Any) -> str | None:
        return None

    def token_for(self, identity: str) -> str:
        return ""

    def transport_for(self, path: str) -> Transport:
        return self.http

    def variables(self) -> dict[str, Any]:
        return {}

    def browse(self, url: str) -> httpx.Response | None:
        return None


CONFORMANCE = ConformanceApi(
    name="toy",
    default_section=ToyConfig,
    parse_section=lambda data: ToyConfig(**check_keys(ToyConfig, data, "toy")),
    client=ToyClient,
    rules="toyapi.rules",
    prefixes=lambda section: (section.prefix,),
)
