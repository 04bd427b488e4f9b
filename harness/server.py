"""Assembles one ASGI app from the API plugins: connexion for the specs, each API's own middleware,
the `/__harness` admin endpoints and the landing page, and the context every handler reads.

`initialize_state` is the cheap half (store, keys, DDL, demo data; no connexion): `harness serve --workers N`
runs it once in the parent, and each worker builds the app with `create_app`. connexion is imported only
where the app is built or an error is answered, so the parent never pays for it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from harness import runtime, schema
from harness.clock import CLOCK, Clock
from harness.cors import Cors
from harness.crypto.keys import KeyRing
from harness.faults import FaultInjector
from harness.internals import connexion_internals_problem
from harness.logs import install_access_log_redaction
from harness.plugins import ON_EVENT_LOOP, ApiPlugin, load_plugins
from harness.routing import SLOT_KEY, RouteRecorder, RouteSlot, route_of
from harness.runtime import Context
from harness.settings import Settings
from harness.specs import runtime_spec
from harness.store import Store
from harness.stores import open_store
from harness.userdata import fingerprint, seed_data

if TYPE_CHECKING:
    import connexion
    from connexion.lifecycle import ConnexionResponse
    from starlette.requests import Request
    from starlette.responses import Response

log = logging.getLogger("harness")
_SLASHES = re.compile(r"/{2,}")


def _initialize(store: Store, keys: KeyRing, plugins: list[ApiPlugin], settings: Settings) -> None:
    """Keys, tables, and the starting data: seeded once per store and data (a restart with another `--config`
    file, or none after one, seeds again; one with the same data keeps codes and tokens). Instances starting
    at once on an empty store do this one after another (each transaction holds the store's write lock)."""
    with store.transaction() as tx:
        schema.record(store, tx, schema.CORE, schema.parts([])[schema.CORE])
    for plugin in plugins:
        data = seed_data(settings, plugin)
        keys.ensure(plugin.key_ids(data))
        with store.transaction() as tx:
            ddl = plugin.ddl()
            if ddl:
                for statement in ddl.split(";"):
                    if statement.strip():
                        tx.execute(statement)
            marker = f"seeded:{plugin.name}"
            seeded = tx.execute("SELECT value FROM meta WHERE name = ?", (marker,)).fetchone()
            if seeded is None or seeded["value"] != fingerprint(data):
                plugin.seed(tx, data)
                store.set_meta(tx, marker, fingerprint(data))
            schema.record(store, tx, plugin.name, ddl or "")


def _problem(status: int, title: str, detail: str, headers: Mapping[str, str] | None = None) -> Response:
    from starlette.responses import JSONResponse

    return JSONResponse(
        {"type": "about:blank", "title": title, "detail": detail, "status": status},
        status_code=status,
        media_type="application/problem+json",
        headers=dict(headers or {}),
    )


def _to_connexion(response: Response) -> ConnexionResponse:
    from connexion.lifecycle import ConnexionResponse

    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
    return ConnexionResponse(
        status_code=response.status_code, mimetype=response.media_type, body=response.body, headers=headers
    )


def _error_dispatcher(plugins: list[ApiPlugin]):
    async def handle(request: Request, exc: Exception) -> ConnexionResponse:
        return _to_connexion(await _error_response(plugins, request, exc))

    return handle


async def _error_response(plugins: list[ApiPlugin], request: Request, exc: Exception) -> Response:
    from connexion.exceptions import ProblemException
    from starlette.exceptions import HTTPException

    path = _SLASHES.sub("/", request.url.path)
    route = route_of(request.scope)
    for plugin in plugins:
        if plugin.error_response is not None and (plugin.name == route.api if route else plugin.owns(path)):
            result = plugin.error_response(request, exc)
            return await result if inspect.isawaitable(result) else result
    if isinstance(exc, ProblemException):
        return _problem(exc.status, exc.title or "Error", exc.detail or "")
    if isinstance(exc, HTTPException):
        return _problem(exc.status_code, "Error", str(exc.detail), exc.headers)
    if isinstance(exc, UnicodeDecodeError):
        return _problem(400, "Bad Request", "request body is not valid UTF-8")
    log.error("unhandled error on %s", path, exc_info=exc)
    return _problem(500, "Internal Server Error", "unexpected error")


def _handler_resolver(plugin: ApiPlugin) -> Callable[[str], Any]:
    """connexion's `function_resolver` for one API: the plugin's handler for each operationId, except that a
    handler marked `on_event_loop` is called on the loop, not in a thread."""
    return lambda operation_id: _on_event_loop(plugin.handler(operation_id))


def _on_event_loop(function: Callable[..., Any]) -> Any:
    if not getattr(function, ON_EVENT_LOOP, False) or inspect.iscoroutinefunction(function):
        return function

    @functools.wraps(function)
    async def on_loop(*args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    return on_loop


@contextlib.contextmanager
def _spec_validation_remembered(store: Store) -> Iterator[None]:
    """connexion validates the whole spec in every `add_api` (three per app, again in every worker: about 0.1 s
    each start here). While the app is built, a spec whose exact content already validated for this state
    directory is not validated again; an edited spec has another digest and is validated as usual."""
    from connexion.spec import Specification

    original = Specification.__dict__["_validate_spec"]

    def validate_once(cls: type, spec: dict[str, Any]) -> None:
        digest = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()
        if store.meta(f"spec-valid:{digest}") is None:
            original.__func__(cls, spec)
            store.meta(f"spec-valid:{digest}", lambda: "1")

    Specification._validate_spec = classmethod(validate_once)
    try:
        yield
    finally:
        Specification._validate_spec = original


def _connexion_app(ctx: Context, plugins: list[ApiPlugin], fast_path: bool) -> connexion.AsyncApp:
    """connexion for every plugin's spec, with, right after its routing (the documented BEFORE_SECURITY
    position), the route recorder that hands each request to its API's operation layer, and the fast path."""
    import connexion
    from connexion.exceptions import ProblemException
    from connexion.middleware import MiddlewarePosition
    from connexion.options import SwaggerUIOptions
    from connexion.resolver import Resolver
    from starlette.exceptions import HTTPException

    settings = ctx.settings
    app = connexion.AsyncApp("harness", validate_responses=settings.validate_responses)
    app.add_middleware(RouteRecorder, position=MiddlewarePosition.BEFORE_SECURITY, plugins=plugins, ctx=ctx)
    app.add_middleware(FaultInjector, position=MiddlewarePosition.BEFORE_SECURITY, faults=ctx.faults,
                       latency_ms=settings.latency_ms, on_error=functools.partial(_error_response, plugins))
    if fast_path:
        from harness.fastpath import FastPath, RoutingMemo

        app.add_middleware(RoutingMemo, position=MiddlewarePosition.BEFORE_SWAGGER)
        app.add_middleware(FastPath, position=MiddlewarePosition.BEFORE_SECURITY, plugins=plugins,
                           on_error=functools.partial(_error_response, plugins))
    # no docs from connexion: `HarnessApp` serves the published specs and the UI (harness.published)
    no_docs = SwaggerUIOptions(serve_spec=False, swagger_ui=False)
    for plugin in plugins:
        spec = runtime_spec(plugin)
        for base_path in plugin.base_paths:
            app.add_api(
                spec,
                base_path=base_path,
                name=f"{plugin.name}:{base_path or '/'}",
                swagger_ui_options=no_docs,
                **{"resolver": Resolver(function_resolver=_handler_resolver(plugin)), **plugin.api_options},
            )
    handler = _error_dispatcher(plugins)
    for error in (ProblemException, HTTPException, UnicodeDecodeError, Exception):
        app.add_error_handler(error, handler)
    return app


def _landing(plugins: list[ApiPlugin]):
    from harness.landing import render_landing
    from harness.published import reached_origin

    async def landing(request: Request) -> Response:
        ctx = runtime_ctx(request)
        await ctx.journal.settle()  # the exchanges answered so far are listed
        return render_landing(ctx, plugins, reached_origin(request))

    return landing


def runtime_ctx(request: Request) -> Context:
    return request.scope[runtime.SCOPE_KEY]


class HarnessApp:
    """The outermost ASGI layer: CORS (`harness.cors`), context injection, the request's route slot
    (`harness.routing`), slash normalisation, admin routes."""

    def __init__(self, ctx: Context, plugins: list[ApiPlugin], inner: Any) -> None:
        from starlette.routing import Route, Router

        from harness.admin import PREFIX, admin_routes

        self.ctx = ctx
        self.plugins = plugins
        self.connexion_app = inner
        if ctx.settings.journal:
            from harness.journal import Journal

            inner = Journal(inner, ctx.journal, ctx.clock.now)
        self.inner = inner

        from harness.published import spec_endpoints, ui_routes

        docs = []
        for plugin in plugins:
            as_json, as_yaml = spec_endpoints(plugin)
            docs += [Route(f"{plugin.docs_prefix}/openapi.json", as_json, methods=["GET"]),
                     Route(f"{plugin.docs_prefix}/openapi.yaml", as_yaml, methods=["GET"]), *ui_routes(plugin)]
        self.router = Router(
            routes=[
                *admin_routes(ctx, plugins),
                Route("/", _landing(plugins), methods=["GET"]),
                *docs,
            ],
            default=inner,
        )
        self.router_paths = frozenset(route.path for route in self.router.routes)
        self.ui_prefixes = (f"{PREFIX}/ui/", *(f"{plugin.docs_prefix}/ui/" for plugin in plugins))
        self.entry: Any = Cors(self._dispatch, ctx.settings.cors_origins) if ctx.settings.cors else self._dispatch

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.entry(scope, receive, send)

    async def _dispatch(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            runtime.enter(self.ctx)
            self.ctx.store.begin_request()
            scope = dict(scope)
            scope[runtime.SCOPE_KEY] = self.ctx
            scope[SLOT_KEY] = RouteSlot()
            if "//" in scope["path"]:
                scope["path"] = _SLASHES.sub("/", scope["path"])
                scope["raw_path"] = scope["path"].encode()
            path = scope["path"]
            if path not in self.router_paths and not path.startswith(self.ui_prefixes):
                # the API routes: skip the admin router's matching
                await self.inner(scope, receive, send)
                return
        await self.router(scope, receive, send)


def initialize_state(settings: Settings, apis: tuple[str, ...] | None = None) -> Context:
    """Open the store, make sure every signing key exists, create the tables and seed the demo data once.

    Cheap (no connexion): what `harness serve` needs before its workers start and to print the banner.
    """
    store = open_store(settings)
    plugins = load_plugins(apis)
    for part, ddl in schema.parts(plugins).items():
        schema.require_current(store, part, ddl)
    keys = KeyRing(store)
    ctx = Context(settings=settings, store=store, keys=keys, clock=Clock.shared(store.shared_number(CLOCK)))
    _initialize(store, keys, plugins, settings)
    return ctx


def create_app(settings: Settings | None = None, apis: tuple[str, ...] | None = None) -> HarnessApp:
    settings = settings or Settings()
    return build_app(initialize_state(settings, apis), load_plugins(apis))


def build_app(ctx: Context, plugins: list[ApiPlugin]) -> HarnessApp:
    """The ASGI app on an initialised state (`initialize_state`): connexion with the route recorder, each API's
    operation layer and the fast path inside it, admin routes and docs around it."""
    settings = ctx.settings
    install_access_log_redaction()
    # connexion warns on every request to an operation with several body media types (eKool's token endpoint
    # takes a form, JSON or multipart) that it "uses" the first one for its docs; validation uses the request's own
    logging.getLogger("connexion.operations.openapi3").setLevel(logging.ERROR)
    problem = connexion_internals_problem()
    # validated responses: connexion sees them all
    fast_path = settings.fast_path and not settings.validate_responses and problem is None
    if problem is not None:
        log.warning("%s", problem)
        inner: Any = _connexion_app(ctx, plugins, fast_path)
    else:
        with _spec_validation_remembered(ctx.store):
            inner = _connexion_app(ctx, plugins, fast_path)
            # connexion parses, validates and compiles the specs on its first request; do it here, where the
            # validation memo applies and before the server takes requests
            middleware = inner.middleware
            middleware.app, middleware.middleware_stack = middleware._build_middleware_stack()
        if fast_path:
            from harness.fastpath import bind_fast_layers

            bind_fast_layers(inner)
    return HarnessApp(ctx, plugins, inner)


def create_app_from_env() -> HarnessApp:
    """uvicorn factory for `--workers N`: settings travel in the HARNESS_SETTINGS variable."""
    return create_app(Settings.from_env())
