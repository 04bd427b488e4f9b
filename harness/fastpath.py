"""A validated fast path for an API's hot operations, inside connexion's middleware stack.

connexion 3 rebuilds its validators and handler decorators on every request and runs security, validation and
context layers around the handler: most of the CPU time of a `GET /user/me/basic`. For the operations a plugin
names in `ApiPlugin.fast_operations`, this layer, inserted after connexion's routing (at the documented
`MiddlewarePosition.BEFORE_SECURITY`, behind `harness.routing.RouteRecorder` and the API's operation layer),
does the same work once per process instead:

- routing: none of its own; the operation is connexion's routing result (`harness.routing.route_of`);
- validation: connexion's own `Draft4RequestValidator` (and format checker) on the same resolved schemas;
- security: connexion's own `SecurityHandlerFactory` functions for the operation's requirements;
- the handler, with the arguments connexion would pass, the context connexion's ContextMiddleware sets, and
  connexion's own response builder.

Only a request that passes every check is answered here. Anything else (a body that does not validate, an
unexpected content type, a query string, a refused token) goes on to connexion untouched, with its body
replayed, so every error keeps exactly the status and body it always had. `tests/test_fastpath.py` sends the
same requests both ways and compares the answers. It rests on connexion internals (`harness.internals`): on a
connexion version other than the tested one it is not enabled.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote_plus

import anyio.to_thread
from connexion.context import _context, _operation, _receive, _scope
from connexion.decorators.response import AsyncResponseDecorator
from connexion.exceptions import ProblemException
from connexion.frameworks.starlette import Starlette as StarletteFramework
from connexion.json_schema import Draft4RequestValidator
from connexion.jsonifier import Jsonifier
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.security import AbstractSecurityHandler, OAuthSecurityHandler
from connexion.utils import get_function_from_name, inspect_function_arguments
from jsonschema import Draft4Validator

from harness.asgi import read_body, replay
from harness.plugins import ON_EVENT_LOOP, ApiPlugin
from harness.routing import ROUTING_CONTEXT, Route, route_of, slot_of
from harness.specs import operations, resolve_refs, runtime_spec

ErrorResponder = Callable[[Any, Exception], Awaitable[Any]]
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
CONTEXT_ARGUMENTS = ("token_info", "user")
# A form field the way every client sends one: unreserved characters and well-formed %-escapes only.
# Anything else (`;`, bare `%`, repeated names) is left to connexion's own form parser.
_FORM_PART = re.compile(r"[A-Za-z0-9._~*+-]*(?:%[0-9A-Fa-f]{2}[A-Za-z0-9._~*+-]*)*")
_RESPONSES = AsyncResponseDecorator(framework=StarletteFramework, jsonifier=Jsonifier())


class Unsupported(ValueError):
    """An operation named for the fast path has a shape it does not handle (fix the plugin or the spec)."""


@dataclass(frozen=True)
class FastOperation:
    operation_id: str
    media_type: str | None
    body: Draft4RequestValidator | None
    path_params: dict[str, Draft4Validator]
    token_check: TokenCheck | None
    handler: Callable[..., Any]
    arguments: frozenset[str]
    handler_mode: str  # "async", "loop" (marked on_event_loop) or "thread"
    # connexion's own operation object for this mount: what `connexion.context.operation` is for the handler
    # (one per base path; None until `FastPath.bind`)
    connexion_operation: Any = None


@dataclass(frozen=True)
class TokenCheck:
    """connexion's `http: bearer` / `oauth2` check (connexion.security) on its success path, with the
    function's signature inspected once instead of on every call. None means "not accepted here"."""

    info: Callable[..., Any]  # x-bearerInfoFunc or x-tokenInfoFunc
    keywords: frozenset[str]  # which of required_scopes / request the function takes
    scopes: list[str] | None  # oauth2: the operation's required scopes (a bearer check gets None)
    scope_check: Callable[..., Any] | None  # oauth2: x-scopeValidateFunc or connexion's default

    async def __call__(self, request: ConnexionRequest) -> dict[str, Any] | None:
        try:
            auth_type, token = AbstractSecurityHandler.get_auth_header_value(request)
        except ProblemException:
            return None
        if auth_type != "bearer":
            return None
        kwargs: dict[str, Any] = {"required_scopes": self.scopes, "request": request}
        info = await _resolved(self.info(token, **{k: v for k, v in kwargs.items() if k in self.keywords}))
        if not isinstance(info, dict):
            return None
        if self.scope_check is not None and not await _resolved(
                self.scope_check(self.scopes, info.get("scope", info.get("scopes", "")))):
            return None
        return info


async def _resolved(value: Any) -> Any:
    while inspect.isawaitable(value):
        value = await value
    return value


def _token_check(spec: dict[str, Any], operation: dict[str, Any]) -> TokenCheck | None:
    requirements = operation.get("security", spec.get("security", []))
    if not requirements:
        return None
    if len(requirements) != 1 or len(requirements[0]) != 1:
        raise Unsupported(f"{operation['operationId']}: one security requirement of one scheme")
    ((name, scopes),) = requirements[0].items()
    scheme = spec.get("components", {}).get("securitySchemes", {})[name]
    if scheme["type"] == "oauth2" and scheme.get("x-tokenInfoFunc"):
        info = get_function_from_name(scheme["x-tokenInfoFunc"])
        scope_check = OAuthSecurityHandler.get_scope_validate_func(scheme)
        required: list[str] | None = scopes
    elif scheme["type"] == "http" and scheme.get("scheme", "").lower() == "bearer" and scheme.get("x-bearerInfoFunc"):
        info, scope_check, required = get_function_from_name(scheme["x-bearerInfoFunc"]), None, None
    else:
        raise Unsupported(f"{operation['operationId']}: security scheme {name!r} is not bearer or oauth2")
    arguments, has_kwargs = inspect_function_arguments(info)
    keywords = frozenset(k for k in ("required_scopes", "request") if has_kwargs or k in arguments)
    return TokenCheck(info, keywords, required, scope_check)


def _handler_mode(handler: Callable[..., Any]) -> str:
    if inspect.iscoroutinefunction(handler):
        return "async"
    return "loop" if getattr(handler, ON_EVENT_LOOP, False) else "thread"


def compile_operation(spec: dict[str, Any], operation: dict[str, Any], handler: Callable[..., Any]) -> FastOperation:
    """Everything connexion works out per request for `operation`, worked out once."""
    operation_id = operation["operationId"]
    parameters = resolve_refs(operation.get("parameters", []), spec)
    path_params: dict[str, Draft4Validator] = {}
    for parameter in parameters:
        schema = parameter.get("schema", {})
        if parameter["in"] != "path" or schema.get("type") != "string":
            raise Unsupported(f"{operation_id}: only string path parameters")
        path_params[parameter["name"]] = Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
    media_type, body = None, None
    if "requestBody" in operation:
        content = resolve_refs(operation["requestBody"], spec).get("content", {})
        if len(content) != 1 or next(iter(content)) not in (JSON, FORM):
            raise Unsupported(f"{operation_id}: one JSON or form request body")
        media_type, media = next(iter(content.items()))
        schema = media.get("schema", {})
        if schema.get("type") != "object" or (media_type == FORM and any(
                prop.get("type") != "string" for prop in schema.get("properties", {}).values())):
            raise Unsupported(f"{operation_id}: object bodies (string fields for forms)")
        body = Draft4RequestValidator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
    arguments = frozenset(inspect.signature(handler).parameters)
    token_check = _token_check(spec, operation)
    allowed = {*path_params, *(CONTEXT_ARGUMENTS if token_check else ()), *(("body",) if body else ())}
    if not arguments <= allowed:
        raise Unsupported(f"{operation_id}: handler arguments {sorted(arguments - allowed)} are not supported")
    return FastOperation(operation_id, media_type, body, path_params, token_check, handler,
                         arguments, _handler_mode(handler))


def connexion_operations(app: Any) -> dict[tuple[str, str], Any]:
    """connexion's operation objects by (base path, operationId), as its context middleware holds them."""
    from connexion.middleware.context import ContextMiddleware

    found = {}
    for layer in app.middleware.middleware_stack:
        if isinstance(layer, ContextMiddleware):
            for base_path, apis in layer.apis.items():
                for api in apis:
                    for operation_id, routed in api.operations.items():
                        found[(base_path or "", operation_id)] = routed.operation
    return found


def compile_operations(plugins: list[ApiPlugin]) -> dict[tuple[str, str, str], FastOperation]:
    """(API, mount, operationId) → the compiled operation, for every plugin's fast operations."""
    compiled: dict[tuple[str, str, str], FastOperation] = {}
    for plugin in plugins:
        spec = runtime_spec(plugin)
        found = {op["operationId"]: op for _, _, op in operations(spec) if op.get("operationId") in
                 plugin.fast_operations}
        missing = set(plugin.fast_operations) - set(found)
        if missing:
            raise Unsupported(f"{plugin.name}: fast operations not in the spec: {sorted(missing)}")
        for operation_id, operation in found.items():
            fast = compile_operation(spec, operation, plugin.handler(operation_id))
            for base_path in plugin.base_paths:
                compiled[(plugin.name, base_path, operation_id)] = fast
    return compiled


def _mime(scope: dict[str, Any]) -> str | None:
    for name, value in scope["headers"]:
        if name == b"content-type":
            mime, _, parameters = value.decode("latin-1").partition(";")
            if parameters.strip().lower() not in ("", "charset=utf-8"):
                return None
            return mime.strip()
    return None


def _json_body(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _form_body(data: bytes) -> dict[str, str] | None:
    fields: dict[str, str] = {}
    for part in data.split(b"&") if data else ():
        name, equals, value = part.partition(b"=")
        if not equals or not _FORM_PART.fullmatch(name.decode("latin-1")) \
                or not _FORM_PART.fullmatch(value.decode("latin-1")):
            return None
        try:
            key = unquote_plus(name.decode("ascii"), errors="strict")
            fields_value = unquote_plus(value.decode("ascii"), errors="strict")
        except UnicodeDecodeError:
            return None
        if not key or key in fields:
            return None
        fields[key] = fields_value
    return fields


def parse_body(operation: FastOperation, scope: dict[str, Any], data: bytes) -> Any:
    """The validated body, or None when connexion should look at this request itself."""
    if _mime(scope) != operation.media_type:
        return None
    body = _json_body(data) if operation.media_type == JSON else _form_body(data)
    if not isinstance(body, dict) or operation.body is None or not operation.body.is_valid(body):
        return None
    return body


def _path_arguments(operation: FastOperation, scope: dict[str, Any]) -> dict[str, str] | None:
    values = scope.get("path_params", {})
    if set(values) != set(operation.path_params):
        return None
    for name, validator in operation.path_params.items():
        if not isinstance(values[name], str) or not validator.is_valid(values[name]):
            return None
    return dict(values)


class FastPath:
    """connexion middleware: answer the compiled operations' valid requests; hand everything else on."""

    def __init__(self, app: Any, plugins: list[ApiPlugin], on_error: ErrorResponder) -> None:
        self.app = app
        self.operations = compile_operations(plugins)
        self.on_error = on_error

    def bind(self, connexion_ops: dict[tuple[str, str], Any]) -> None:
        """Give each compiled operation connexion's operation object for its mount (`connexion_operations`),
        once connexion has built its stack."""
        self.operations = {key: replace(fast, connexion_operation=connexion_ops[(key[1], fast.operation_id)])
                           for key, fast in self.operations.items()}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        route = route_of(scope) if scope["type"] == "http" and not scope.get("query_string") else None
        operation = self.operations.get((route.api, route.base_path, route.operation_id)) if route else None
        if operation is None:
            await self.app(scope, receive, send)
            return
        body = None
        if operation.media_type is not None:
            buffered = await read_body(receive)
            receive = replay(buffered.data, receive)
            body = None if buffered.disconnected else parse_body(operation, scope, buffered.data)
            if body is None:
                await self.app(scope, receive, send)
                return
        path_arguments = _path_arguments(operation, scope)
        if path_arguments is None:
            await self.app(scope, receive, send)
            return
        scope = {**scope, "extensions": {**scope.get("extensions", {}), "connexion_context": {}}}
        request = ConnexionRequest(scope, receive)
        if operation.token_check is not None:
            try:
                info = await operation.token_check(request)
            except Exception:  # refused: connexion answers it, with the API's own error body
                info = None
            if info is None:
                await self.app(scope, receive, send)
                return
            # what connexion's SecurityHandlerFactory.verify_security puts into the request context
            request.context.update({"user": info.get("sub", info.get("uid")), "token_info": info})
        await self.answer(operation, request, path_arguments, body, send)

    async def answer(self, operation: FastOperation, request: ConnexionRequest, path_arguments: dict[str, str],
                     body: Any, send: Any) -> None:
        scope = request.scope
        context = scope["extensions"]["connexion_context"]
        # what connexion's ContextMiddleware sets before a handler runs
        _scope.set(scope)
        _receive.set(request.receive)
        _context.set(context)
        _operation.set(operation.connexion_operation)
        candidates = {**path_arguments, **context, "body": body}
        kwargs = {name: candidates[name] for name in operation.arguments}
        try:
            if operation.handler_mode == "async":
                result = await operation.handler(**kwargs)
            elif operation.handler_mode == "loop":
                result = operation.handler(**kwargs)
            else:
                result = await anyio.to_thread.run_sync(lambda: operation.handler(**kwargs))
            if StarletteFramework.is_framework_response(result):
                response = result
            elif isinstance(result, ConnexionResponse):
                response = StarletteFramework.connexion_to_framework_response(result)
            else:
                response = _RESPONSES.build_framework_response(result)
        except Exception as exc:
            response = await self.on_error(request, exc)
        await response(scope, request.receive, send)


class RoutingMemo:
    """connexion middleware (BEFORE_SWAGGER): connexion's routing result, remembered per method and path.

    Starlette matches a request against every mount and route in turn, twice (connexion's docs router, then
    its operation router): about as long as the fast path takes to answer a `GET /user/me/basic`. Routing
    depends on nothing but the method and the path, so the route connexion found (`harness.routing.Route`) is
    kept, and the next request with the same method and path goes straight to the layer after connexion's
    routing middleware with the same routing result in its scope. The docs router it skips serves nothing
    (harness.published serves the docs). Paths that routed nowhere (404, 405) are not kept; at most `size`
    paths are (the oldest goes first), so a fuzzer's endless consumer names cost no memory.
    """

    def __init__(self, app: Any, size: int = 4096) -> None:
        self.app = app
        self.size = size
        self.after_routing: Any = None  # set by `bind_fast_layers` once connexion has built its stack
        self.routes: dict[tuple[str, str, str], Route] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.after_routing is None:
            await self.app(scope, receive, send)
            return
        key = (scope["method"], scope["path"], scope.get("root_path", ""))
        route = self.routes.get(key)
        if route is None:
            try:
                await self.app(scope, receive, send)
            finally:  # an operation's error propagates to connexion's exception layer, in front of this one
                self._remember(key, slot_of(scope).route)
            return
        # what connexion's RoutingOperation hands on: the scope with the path parameters and the routing result
        routing = {"api_base_path": route.base_path, "operation_id": route.operation_id}
        routed = {**scope, "path_params": {**scope.get("path_params", {}), **route.path_params},
                  "extensions": {**scope.get("extensions", {}), ROUTING_CONTEXT: routing}}
        await self.after_routing(routed, receive, send)

    def _remember(self, key: tuple[str, str, str], route: Route | None) -> None:
        if route is None:
            return
        if len(self.routes) >= self.size:
            del self.routes[next(iter(self.routes))]
        self.routes[key] = route


def bind_fast_layers(app: Any) -> None:
    """Bind the fast path and the routing memo in a built connexion app's stack to what connexion built: its
    operation objects, and the layer after its routing middleware."""
    from connexion.middleware.routing import RoutingMiddleware

    stack = list(app.middleware.middleware_stack)
    for layer in stack:
        if isinstance(layer, FastPath):
            layer.bind(connexion_operations(app))
        elif isinstance(layer, RoutingMemo):
            layer.after_routing = next(m.app for m in stack if isinstance(m, RoutingMiddleware))
