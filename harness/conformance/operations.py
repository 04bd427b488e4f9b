"""Which API and operation a request path belongs to, for anything that sees traffic it did not make (the
recorder, the proxy): the specs' path templates under each API's prefixes, longest prefix first."""

from __future__ import annotations

import re

from harness.conformance.apis import for_api
from harness.conformance.config import ConformConfig
from harness.specs import load_spec
from harness.specs import operations as spec_operations

_SLASHES = re.compile(r"/{2,}")


class OperationIndex:
    """Which API and operation a request path belongs to, from the specs' path templates under each API's
    prefixes (longest first)."""

    def __init__(self, config: ConformConfig) -> None:
        self.entries: list[tuple[str, str, str, re.Pattern[str], str]] = []
        for api in config.apis:
            prefixes = sorted(for_api(api).prefixes(getattr(config, api)), key=len, reverse=True)
            for method, path, op in spec_operations(load_spec(api)):
                pattern = re.compile("^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(path)) + "$")
                for prefix in prefixes:
                    self.entries.append((api, prefix, method, pattern, op.get("operationId", "")))

    def find(self, method: str, path: str) -> tuple[str, str]:
        """(api, operationId); ("unknown", "") for paths no spec has."""
        path = _SLASHES.sub("/", path)
        for api, prefix, op_method, pattern, operation_id in self.entries:
            if op_method == method and path.startswith(prefix) and pattern.match(path[len(prefix):]):
                return api, operation_id
        return "unknown", ""
