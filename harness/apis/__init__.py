"""Reference behaviour, one package per API, each named like its spec (`openapi/<name>.yaml`).

A package exposes `PLUGIN`, an `ApiPlugin`: the only thing `harness.server` knows about it.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.specs import API_NAMES, routed_spec

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from harness.runtime import Context

ASGIApp = Callable[[dict[str, Any], Callable[..., Awaitable[Any]], Callable[..., Awaitable[Any]]], Awaitable[None]]


@dataclass(frozen=True)
class ApiPlugin:
    name: str
    # Mount points of the spec; "" is the bare root. Sunbird is served under "/api" and "".
    base_paths: tuple[str, ...] = ("",)
    # Does this API answer for the given request path? Used to pick the error format for 404/400/etc.
    owns: Callable[[str], bool] = lambda path: False
    # SQL run once per state directory (CREATE TABLE IF NOT EXISTS ...).
    ddl: str = ""
    # Restore the demo data inside an open transaction (called on first start and by /__harness/reset).
    seed: Callable[[Any], None] = lambda tx: None
    # Signing key ids this API needs (generated once per state directory).
    key_ids: tuple[str, ...] = ()
    # Wrap the whole app with this API's own ASGI middleware (e.g. Sunbird's Kong-like gateway).
    wrap: Callable[[ASGIApp, Context], ASGIApp] | None = None
    # Turn a connexion/starlette error on one of this API's paths into its native error body.
    error_response: Callable[[Request, Exception], Response | Awaitable[Response]] | None = None
    # Lines for the `harness serve` banner (demo credentials, URLs).
    banner: Callable[[Context], list[str]] = lambda ctx: []
    # (label, href) links for the landing page, e.g. the login page with the demo client.
    links: Callable[[Context], list[tuple[str, str]]] = lambda ctx: []
    # operationId -> "package.module:function" (or the function itself): the handler of every operation.
    handlers: Mapping[str, str | Callable[..., Any]] = field(default_factory=dict)
    # security scheme name -> {connexion extension: "package.module:function"}, e.g.
    # {"bearerAuth": {"x-bearerInfoFunc": "..."}}; attached when the spec is loaded, never written in the YAML.
    security: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # operationIds answered by `harness.fastpath` when the request is valid (hot paths; connexion does the rest).
    fast_operations: tuple[str, ...] = ()
    # Extra connexion add_api keyword arguments.
    api_options: dict[str, Any] = field(default_factory=dict)

    def handler(self, operation_id: str) -> Callable[..., Any]:
        """The function that answers `operation_id`; LookupError when the plugin maps none."""
        target = self.handlers.get(operation_id)
        if target is None:
            raise LookupError(f"{self.name}: no handler for operationId {operation_id!r}")
        return import_target(target) if isinstance(target, str) else target

    def runtime_spec(self) -> dict[str, Any]:
        """The routed spec with this plugin's security functions attached: what connexion and the fast path
        load. It names Python functions, so it is never published (see `harness.published`)."""
        spec = routed_spec(self.name)
        schemes = spec.get("components", {}).get("securitySchemes", {})
        for scheme, functions in self.security.items():
            if scheme not in schemes:
                raise LookupError(f"{self.name}: security scheme {scheme!r} is not in the spec")
            # connexion resolves these with `get_function_from_name`, which takes a dotted path
            schemes[scheme].update({key: target.replace(":", ".") for key, target in functions.items()})
        return spec


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


def import_target(target: str) -> Callable[..., Any]:
    """`"package.module:function"` imported now."""
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


def load_plugins(names: tuple[str, ...] = API_NAMES) -> list[ApiPlugin]:
    return [importlib.import_module(f"harness.apis.{name}").PLUGIN for name in names]
