"""The one registry of APIs: each API is one plugin, found through the `harness.apis` entry points.

An entry point names an `ApiPlugin`: what every part of the product needs to know about the API. It is a
declaration that imports nothing but this module; everything else is named as `"module:attribute"` and imported
on first use, so a conformance run never loads the server half. It gives the contract files (spec, recorded
exchanges), the server half (handlers, security functions, middleware, state, demo data, banner and landing
entries) and, by name, the conformance half (`harness.conformance.apis.ConformanceApi`), the Postman flow and
the test token helper. Nothing outside a plugin tests an API's name; a third API is a third entry point.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

# The server's per-request state (`harness.runtime.Context`); not imported, so that a plugin's declaration and
# the conformance half that reads it depend on nothing of the server.
Context = Any

ENTRY_POINT_GROUP = "harness.apis"
ASGIApp = Callable[[dict[str, Any], Callable[..., Awaitable[Any]], Callable[..., Awaitable[Any]]], Awaitable[None]]


@dataclass(frozen=True)
class ApiPlugin:
    name: str
    # The contract: the OpenAPI file, and the directory of recorded exchanges (demo data under `demo/`).
    spec_file: Path
    fixture_dir: Path
    # The reference server's own operations beyond the contract (eKool's login and consent pages), in an OpenAPI
    # file of their own: routed with the contract's, never published, fuzzed as the contract or checked against
    # a deployment (`harness.specs.served_spec`).
    mock_spec_file: Path | None = None
    # Routing order between APIs (lower first): APIs sharing the root are routed in this order.
    order: int = 100
    # Mount points of the spec; "" is the bare root. Sunbird is served under "/api" and "".
    base_paths: tuple[str, ...] = ("",)
    # Does this API answer for the given request path? Only asked for a request no operation matched (404,
    # 405): a routed request's errors go to its operation's API (`harness.routing`).
    owns: Callable[[str], bool] = lambda path: False
    # SQL run once per state directory (CREATE TABLE IF NOT EXISTS ...).
    ddl: Callable[[], str] = lambda: ""
    # Restore the starting data inside an open transaction (first start, a changed `--config` file, and
    # /__harness/reset): the demo data unless `SeedData.include_demo` is false, with the config's entries.
    seed: Callable[[Any, SeedData], None] = lambda tx, data: None
    # JSON Schema of this API's table in a `harness serve --config` file (`[<name>]`), and the parser that checks
    # what a schema cannot (references, duplicates) and returns the JSON-able entries `seed` receives; it raises
    # `ConfigEntryError` naming the key. None: the API takes no table.
    config_schema: Callable[[], dict[str, Any]] | None = None
    parse_config: Callable[[dict[str, Any], bool], dict[str, Any]] = lambda table, include_demo: table
    # Lifetimes a config file's `[lifetimes]` table may set: name (prefixed with the API's name) -> default
    # seconds. The behaviour reads them with `lifetime(settings, name)`.
    lifetimes: Mapping[str, int] = field(default_factory=dict)
    # Signing key ids this API needs with this data (generated once per state directory).
    key_ids: Callable[[SeedData], tuple[str, ...]] = lambda data: ()
    # This API's own ASGI middleware for its routed operations (e.g. Sunbird's Kong-like gateway), called after
    # connexion's routing and before its security and validation; `harness.routing.route_of(scope)` names the
    # operation. It sees no other API's requests and no unrouted ones.
    operation_layer: Callable[[ASGIApp, Context], ASGIApp] | None = None
    # Turn a connexion/starlette error on one of this API's paths into its native error body.
    error_response: Callable[[Request, Exception], Response | Awaitable[Response]] | None = None
    # The admin API's OAuth scenarios (`openapi/admin.yaml`), where the API has tokens of its own.
    # Revoke every token of a user (username) or client (client id), inside an open transaction: (ctx, tx, user,
    # client) -> how many of each kind.
    revoke_tokens: Callable[[Context, Any, str | None, str | None], dict[str, int]] | None = None
    # The names of the signing keys `/__harness/keys/rotate` rotates (`harness.crypto.keys.KeyRing.rotate`).
    rotating_keys: Callable[[], tuple[str, ...]] = lambda: ()
    # Its refresh grant honours `/__harness/refresh-failures` (`harness.triggers.REFRESH_FAILURE`).
    fails_refresh: bool = False
    # Lines for the `harness serve` banner (demo credentials, URLs).
    banner: Callable[[Context], list[str]] = lambda ctx: []
    # Its section of the landing page, for a browser that reached the server at `origin` (`scheme://host:port`).
    landing: Callable[[Context, str], Landing] | None = None
    # What its Swagger UI page sets up for a browser at `origin`: the OAuth dialog's defaults, ready Bearers.
    swagger_ui: Callable[[Context, str], SwaggerUiSetup] | None = None
    # operationId -> "package.module:function" (or the function itself): the handler of every operation.
    handlers: Mapping[str, str | Callable[..., Any]] = field(default_factory=dict)
    # security scheme name -> {connexion extension: "package.module:function"}, e.g.
    # {"bearerAuth": {"x-bearerInfoFunc": "..."}}; attached when the spec is loaded, never written in the YAML.
    security: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # operationIds answered by `harness.fastpath` when the request is valid (hot paths; connexion does the rest).
    fast_operations: tuple[str, ...] = ()
    # Extra connexion add_api keyword arguments.
    api_options: dict[str, Any] = field(default_factory=dict)
    # "package.module:attribute" of the conformance half (`harness.conformance.apis.ConformanceApi`).
    conformance: str = ""
    # "package.module:attribute" of the Postman flow (`PostmanFlow`); "" for none.
    postman: str = ""
    # "package.module:attribute" of a class wrapping an httpx client with ready-token helpers for tests
    # (`harness_tokens.<name>`); "" for none.
    tokens: str = ""

    def handler(self, operation_id: str) -> Callable[..., Any]:
        """The function that answers `operation_id`; LookupError when the plugin maps none."""
        target = self.handlers.get(operation_id)
        if target is None:
            raise LookupError(f"{self.name}: no handler for operationId {operation_id!r}")
        return import_target(target) if isinstance(target, str) else target

    def lifetime(self, settings: Any, name: str) -> float:
        """Seconds of the lifetime `name` (one of `lifetimes`): the config file's value, else the default."""
        return settings.lifetimes.get(name, self.lifetimes[name])

    @property
    def docs_prefix(self) -> str:
        """Where the API's Swagger UI and openapi.json live: its first non-root mount, else `/<api>`.

        Connexion keeps one docs router per base path, so two APIs at the root cannot both serve docs there.
        """
        return next((bp for bp in self.base_paths if bp), f"/{self.name}")


@dataclass(frozen=True)
class SeedData:
    """What a plugin's `seed` loads: its demo data unless `include_demo` is false, and `entries` (what its
    `parse_config` returned for a `--config` file), an entry with a demo entry's id replacing it."""

    include_demo: bool = True
    entries: Mapping[str, Any] = field(default_factory=dict)
    # the config file the entries come from, for banners ("" for none)
    source: str = ""


@dataclass(frozen=True)
class Shown:
    """A value the landing page shows with a copy button; `key` names it in the page (`data-key`)."""

    key: str
    label: str
    value: str
    note: str = ""
    link: bool = False  # a URL the reader may also open


@dataclass(frozen=True)
class Landing:
    """One API's section of the landing page (`harness.landing`); texts are plain, the page escapes them."""

    summary: str
    base_urls: tuple[str, ...]  # what an app is pointed at
    # the things to try first: (title, what to do, an optional href)
    steps: tuple[tuple[str, str, str], ...] = ()
    credentials: tuple[Shown, ...] = ()
    ready: tuple[Shown, ...] = ()  # ready-made values: Bearers, whole URLs
    links: tuple[tuple[str, str], ...] = ()  # (label, href)


@dataclass(frozen=True)
class SwaggerUiSetup:
    """What one API's Swagger UI page sets up: `init_oauth` is Swagger UI's `initOAuth` configuration; each
    Bearer is (label, security scheme, token) and gets a button, the first filled in when the spec loads;
    `notice` is a line above the UI (e.g. why Authorize cannot work at this address)."""

    init_oauth: Mapping[str, Any] | None = None
    bearers: tuple[tuple[str, str, str], ...] = ()
    notice: str = ""


class ConfigEntryError(ValueError):
    """A `--config` table's entry is wrong: `key` is its path within the API's table, e.g. ("clients", 0, "id")."""

    def __init__(self, key: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


@dataclass(frozen=True)
class PostmanStep:
    """One request of a generated Postman collection; method, path and checked keys come from the spec."""

    name: str
    operation: str  # the spec's operationId
    url: str  # what Postman requests, with {{variables}}
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    form: dict[str, str] | None = None
    captures: dict[str, str] = field(default_factory=dict)  # variable -> JS expression (`body`, `location`)
    checks: tuple[str, ...] = ()  # extra JS assertions (`body`, `location`)


@dataclass(frozen=True)
class PostmanFlow:
    steps: Callable[[], list[PostmanStep]]
    # variables of the local environment file (demo credentials, URLs relative to `{{base_url}}`)
    environment: Callable[[], dict[str, str]]
    # collection variables
    variables: dict[str, str] = field(default_factory=dict)


@cache
def discover() -> dict[str, ApiPlugin]:
    """Every installed API plugin by name, in routing order."""
    found = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        plugin = entry.load()
        if not isinstance(plugin, ApiPlugin) or plugin.name != entry.name:
            raise TypeError(f"entry point {entry.name} = {entry.value} is not an ApiPlugin named {entry.name!r}")
        found.append(plugin)
    return {plugin.name: plugin for plugin in sorted(found, key=lambda p: (p.order, p.name))}


def api_names() -> tuple[str, ...]:
    return tuple(discover())


def get(name: str) -> ApiPlugin:
    plugins = discover()
    if name not in plugins:
        raise KeyError(f"unknown API {name!r}; known: {', '.join(plugins)}")
    return plugins[name]


def load_plugins(names: tuple[str, ...] | None = None) -> list[ApiPlugin]:
    return [get(name) for name in (names or api_names())]


ON_EVENT_LOOP = "__harness_on_event_loop__"


def on_event_loop(function: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a sync handler whose work is short and CPU-bound (µs reads of the local WAL store, one signature).

    connexion hands every sync handler to the thread pool, a hop that costs more than such a handler's work;
    `harness.server` calls a marked handler on the event loop instead. Never mark a handler that writes
    (`BEGIN IMMEDIATE` may wait for another worker's lock) or does other blocking I/O. The function stays an
    ordinary sync function for direct callers.
    """
    setattr(function, ON_EVENT_LOOP, True)
    return function


def import_target(target: str) -> Any:
    """`"package.module:attribute"` imported now."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def lazy(target: str) -> Callable[..., Any]:
    """`"package.module:function"`, imported on first call.

    Plugins name their middleware and error modules this way, so `harness serve` can initialise state from
    a plugin (DDL, seed, keys, banner) without importing connexion.
    """

    @functools.cache
    def load() -> Callable[..., Any]:
        return import_target(target)

    def call(*args: Any, **kwargs: Any) -> Any:
        return load()(*args, **kwargs)

    return call
