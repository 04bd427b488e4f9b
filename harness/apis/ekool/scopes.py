"""The four eKool scopes, read from the spec's oauth2 scheme (the single source of their ids and descriptions)."""

from __future__ import annotations

from functools import cache

from harness.specs import load_spec


@cache
def descriptions() -> dict[str, str]:
    scheme = load_spec("ekool")["components"]["securitySchemes"]["ekool_oauth"]
    return dict(scheme["flows"]["authorizationCode"]["scopes"])


def parse(value: str) -> list[str]:
    """Space-separated scope ids; empty items dropped (league's convertScopesQueryStringToArray)."""
    return [item for item in value.strip().split(" ") if item]
