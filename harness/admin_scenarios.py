"""The admin API's OAuth scenarios (`openapi/admin.yaml`): revoke a user's or client's tokens, rotate and retire
signing keys, make the next refreshes fail. Each is carried out by the plugins that offer it (`ApiPlugin`
`revoke_tokens`, `rotating_keys`, `fails_refresh`), never by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harness.triggers import REFRESH_FAILURE

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from harness.plugins import ApiPlugin
    from harness.runtime import Context


def revokes(plugin: ApiPlugin) -> bool:
    return plugin.revoke_tokens is not None


def rotates(plugin: ApiPlugin) -> bool:
    return bool(plugin.rotating_keys())


def fails_refresh(plugin: ApiPlugin) -> bool:
    return plugin.fails_refresh


def _json(body: Any, status: int = 200) -> Response:
    from starlette.responses import JSONResponse

    return JSONResponse(body, status_code=status)


def _chosen(plugins: list[ApiPlugin], body: dict[str, Any], offers: Callable[[ApiPlugin], bool]) -> list[ApiPlugin]:
    """The plugins a scenario applies to: the one `body["api"]` names (the schema lists only those that offer it),
    else every one that offers it."""
    return [p for p in plugins if offers(p) and body.get("api", p.name) == p.name]


def revoke_tokens(request: Request, ctx: Context, plugins: list[ApiPlugin], body: dict[str, Any]) -> Response:
    revoked = {}
    with ctx.store.transaction() as tx:
        for plugin in _chosen(plugins, body, revokes):
            assert plugin.revoke_tokens is not None
            revoked[plugin.name] = plugin.revoke_tokens(ctx, tx, body.get("user"), body.get("client"))
    return _json({"revoked": revoked})


def _keys(ctx: Context, plugins: list[ApiPlugin], body: dict[str, Any], change: Callable[[str], Any]) -> Response:
    listed = []
    for plugin in _chosen(plugins, body or {}, rotates):
        for name in plugin.rotating_keys():
            changed = change(name)
            listed.append({"api": plugin.name, "name": name, "current": ctx.keys.current(name),
                           "verifying": ctx.keys.generations(name),
                           "retired": changed if isinstance(changed, list) else []})
    return _json({"keys": listed})


def rotate_keys(request: Request, ctx: Context, plugins: list[ApiPlugin], body: dict[str, Any]) -> Response:
    return _keys(ctx, plugins, body, ctx.keys.rotate)


def retire_keys(request: Request, ctx: Context, plugins: list[ApiPlugin], body: dict[str, Any]) -> Response:
    return _keys(ctx, plugins, body, ctx.keys.retire)


def _refresh_failures(ctx: Context, status: int = 200) -> Response:
    armed = {name.removeprefix(REFRESH_FAILURE.format(api="")): count for name, count in ctx.triggers.armed().items()
             if name.startswith(REFRESH_FAILURE.format(api=""))}
    return _json({"armed": armed}, status)


def list_refresh_failures(request: Request, ctx: Context, plugins: list[ApiPlugin], query: Any) -> Response:
    return _refresh_failures(ctx)


def fail_refreshes(request: Request, ctx: Context, plugins: list[ApiPlugin], body: dict[str, Any]) -> Response:
    for plugin in _chosen(plugins, body or {}, fails_refresh):
        ctx.triggers.arm(REFRESH_FAILURE.format(api=plugin.name), (body or {}).get("count", 1))
    return _refresh_failures(ctx, 201)


def clear_refresh_failures(request: Request, ctx: Context, plugins: list[ApiPlugin], body: Any) -> Response:
    ctx.triggers.clear()
    return _refresh_failures(ctx)
