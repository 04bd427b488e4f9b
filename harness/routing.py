"""Route once: connexion's routing result, shared by every layer that acts per operation.

connexion's RoutingMiddleware resolves a request to its mount and operationId and puts them into the scope
(`scope["extensions"]["connexion_routing"]`). `RouteRecorder`, inserted right after it (connexion's documented
`MiddlewarePosition.BEFORE_SECURITY`), turns that into a `Route` (the API and the operation) and hands the
request to that API's own operation layer (`ApiPlugin.operation_layer`: the Sunbird gateway, eKool's request
reading), which therefore sees only its own operations and keys on their ids.

The result is also written into a per-request `RouteSlot` that the outermost layer put into the scope. ASGI
scopes are copied on the way in, so an error handler (connexion's exception middleware sits before routing)
would not see the routed scope; it sees the same slot object, and with it the operation its error came from.
A request no operation matched (404, 405) leaves the slot empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.plugins import ApiPlugin, ASGIApp, Context
from harness.specs import operation_ids, served_spec

SLOT_KEY = "harness.route"
ROUTING_CONTEXT = "connexion_routing"  # connexion.middleware.abstract.ROUTING_CONTEXT


@dataclass(frozen=True)
class Route:
    api: str  # the plugin's name
    operation_id: str
    base_path: str  # the mount the request came in under ("" for the root)
    path_params: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class RouteSlot:
    """Filled once per request by `RouteRecorder`; `notes` is what an API's operation layer leaves for its
    error handler (e.g. the request body it already read)."""

    route: Route | None = None
    notes: dict[str, Any] = field(default_factory=dict)


def slot_of(scope: dict[str, Any]) -> RouteSlot:
    """The request's slot (an empty one outside `harness.server.HarnessApp`, e.g. in a bare connexion app)."""
    slot = scope.get(SLOT_KEY)
    return slot if isinstance(slot, RouteSlot) else RouteSlot()


def route_of(scope: dict[str, Any]) -> Route | None:
    return slot_of(scope).route


def operation_table(plugins: Iterable[ApiPlugin]) -> dict[tuple[str, str], str]:
    """(mount, operationId) → API, the first API in routing order winning, as connexion's own middleware picks
    the operation (two APIs on one mount may share an id, e.g. the JWKS both serve at the same path)."""
    table: dict[tuple[str, str], str] = {}
    for plugin in plugins:
        for base_path in plugin.base_paths:
            for operation_id in operation_ids(served_spec(plugin.name)):
                table.setdefault((base_path, operation_id), plugin.name)
    return table


class RouteRecorder:
    """connexion middleware (BEFORE_SECURITY): record the route, then pass the request through the routed API's
    operation layer, if it has one."""

    def __init__(self, app: ASGIApp, plugins: list[ApiPlugin], ctx: Context) -> None:
        self.app = app
        self.table = operation_table(plugins)
        self.layers = {plugin.name: plugin.operation_layer(app, ctx) for plugin in plugins
                       if plugin.operation_layer is not None}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        routing = scope.get("extensions", {}).get(ROUTING_CONTEXT, {})
        base_path, operation_id = routing.get("api_base_path"), routing.get("operation_id")
        api = self.table.get((base_path or "", operation_id)) if operation_id is not None else None
        if api is None:
            await self.app(scope, receive, send)
            return
        slot = scope.get(SLOT_KEY)
        if not isinstance(slot, RouteSlot):
            slot = scope[SLOT_KEY] = RouteSlot()
        slot.route = Route(api, operation_id, base_path or "", dict(scope.get("path_params", {})))
        await self.layers.get(api, self.app)(scope, receive, send)
