"""The conformance half of an API plugin: what a run needs that only the API itself knows.

`ApiPlugin.conformance` (harness.plugins) names one `ConformanceApi`. The config, the runner, the schema phase,
the replayer and the recorder reach an API only through it and its client, and never test an API's name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

import yaml

from harness import plugins

if TYPE_CHECKING:
    import httpx

    from harness.conformance.transport import Transport

SchemaFilter = Callable[[Any], Any]  # a schemathesis schema -> the part of it sent to one base URL


class ConformanceClient(Protocol):
    """A real client of the API, over HTTP only: what rules, the schema phase and the replayer drive."""

    def schema_targets(self) -> list[tuple[str, SchemaFilter]]:
        """(base URL, schema filter) pairs the spec phase sends to (an API may live on several hosts)."""

    def identity_for(self, case: Any) -> str | None:
        """Which credential a generated case is sent with; None for operations without one."""

    def token_for(self, identity: str) -> str:
        """A bearer for that credential, obtained as a real client would."""

    def transport_for(self, path: str) -> Transport:
        """The transport (host) a request path goes to."""

    def variables(self) -> dict[str, Any]:
        """Values of the `{{name}}` variables in the API's fixtures; callables are asked lazily."""

    def browse(self, url: str) -> httpx.Response | None:
        """The answer once a user has logged in from `url`, for a fixture recorded after a login; None when the
        API has no login."""


@dataclass(frozen=True)
class ConformanceApi:
    name: str
    # The `[<name>]` table of the config file: its default (the demo data of `harness serve`) and its parser
    # (raises `ConfigError` naming what is wrong).
    default_section: Callable[[], Any]
    parse_section: Callable[[dict[str, Any]], Any]
    client: Callable[[Any, Transport], ConformanceClient]  # (the run's ConformConfig, its transport)
    # The module whose import registers the API's rules (`harness.conformance.rules.rule`).
    rules: str
    # The module whose import registers its passive rules, for `harness proxy` (`harness.conformance.passive`).
    passive: str = ""
    # Where the target publishes the keys its tokens verify with (JWKS documents), for the proxy's passive rules.
    key_paths: Callable[[Any], tuple[str, ...]] = lambda section: ()
    # Path prefixes a deployment may put in front of the spec's paths (recording maps paths to operations).
    prefixes: Callable[[Any], tuple[str, ...]] = lambda section: ("",)
    # Recording: the replay variable for a request's bearer token, and for secret form fields by name.
    bearer_variable: Callable[[Any, str], str] = lambda section, token: "redacted_bearer"
    field_variables: Mapping[str, str] = field(default_factory=dict)


@cache
def demo_data(api: str, name: str) -> Any:
    """A demo-data file of the API's contract (`fixtures/<api>/demo/<name>`): a conformance half's defaults are
    the demo data `harness serve` starts with, read from there rather than written again in code."""
    return yaml.safe_load((plugins.get(api).fixture_dir / "demo" / name).read_text(encoding="utf-8"))


@cache
def for_api(name: str) -> ConformanceApi:
    target = plugins.get(name).conformance
    if not target:
        raise LookupError(f"API {name!r} has no conformance half")
    found = plugins.import_target(target)
    if not isinstance(found, ConformanceApi) or found.name != name:
        raise TypeError(f"{target} is not the ConformanceApi of {name!r}")
    return found


def checked_api_names() -> tuple[str, ...]:
    """The registered APIs that have a conformance half."""
    return tuple(name for name, plugin in plugins.discover().items() if plugin.conformance)
