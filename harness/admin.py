"""The admin API under `/__harness`, contract-first like the APIs: `openapi/admin.yaml` names the operations,
their routes are built from it, request bodies are validated against its schemas (jsonschema), and it is
published at `/__harness/openapi.json` with a Swagger UI at `/__harness/ui/`."""

from __future__ import annotations

import copy
import json
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from harness import contract, durations
from harness.admin_scenarios import (
    clear_refresh_failures,
    fail_refreshes,
    fails_refresh,
    list_refresh_failures,
    retire_keys,
    revoke_tokens,
    revokes,
    rotate_keys,
    rotates,
)
from harness.specs import HTTP_METHODS, operation_ids, resolve_refs, served_spec
from harness.userdata import seed_data

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from harness.plugins import ApiPlugin
    from harness.runtime import Context

PREFIX = "/__harness"
TITLE = "Harness admin API"
LAST_INSTANT = 253402300799  # 9999-12-31T23:59:59Z: tokens' NumericDates and ISO dates stay writable

# (request, ctx, plugins, the validated JSON body or query parameters) -> a response, or an awaitable of one
Handler = Callable[..., Any]


class AdminError(ValueError):
    """A request the admin API refuses with 400; nothing changed."""


@cache
def _admin_file() -> dict[str, Any]:
    import yaml

    return yaml.safe_load((contract.spec_dir() / "admin.yaml").read_text(encoding="utf-8"))


def admin_spec(plugins: Iterable[ApiPlugin] = ()) -> dict[str, Any]:
    """The admin contract, with the operation ids a fault may name (those of `plugins`' served specs) and the APIs
    each scenario may name (the plugins that offer it)."""
    spec = copy.deepcopy(_admin_file())
    plugins = list(plugins)
    schemas = spec["components"]["schemas"]
    ids = sorted({op_id for plugin in plugins for op_id in operation_ids(served_spec(plugin.name))})
    if ids:
        schemas["Fault"]["properties"]["operation"]["enum"] = ids
    for schema, offers in (("Revocation", revokes), ("ApiChoice", rotates), ("RefreshFailure", fails_refresh)):
        names = [plugin.name for plugin in plugins if offers(plugin)]
        if names:
            schemas[schema]["properties"]["api"]["enum"] = names
    return spec


def parse_duration(value: Any) -> float:
    """Seconds from `"90s"`, `"15m"`, `"13h"`, `"7d"`, `"-1h"` or a number; AdminError names a bad one."""
    try:
        return durations.parse_duration(value)
    except ValueError as exc:
        raise AdminError(str(exc)) from None


def parse_instant(value: str) -> float:
    """Epoch seconds of an ISO 8601 date-time (UTC when it names no offset: the admin API's schema requires one,
    `harness_clock.set` does not)."""
    try:
        return durations.parse_instant(value)
    except ValueError as exc:
        raise AdminError(str(exc)) from None


def clock_body(ctx: Context) -> dict[str, Any]:
    now = ctx.clock.now()
    return {"now": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "epoch": now,
            "offset_seconds": ctx.clock.offset}


def _json(body: Any) -> Response:
    from starlette.responses import JSONResponse

    return JSONResponse(body)


def get_health(request: Request, ctx: Context, plugins: list[ApiPlugin], body: Any) -> Response:
    return _json({"status": "ok", "apis": [p.name for p in plugins]})


def reset(ctx: Context, plugins: list[ApiPlugin]) -> None:
    """Bring back exactly the starting data of every API (the demo data and the `--config` file's), real time,
    no faults or refresh failures and an empty journal (keys kept)."""
    with ctx.store.transaction() as tx:
        for plugin in plugins:
            plugin.seed(tx, seed_data(ctx.settings, plugin))
    ctx.clock.reset()
    ctx.journal.clear()
    ctx.faults.clear()
    ctx.triggers.clear()


async def reset_state(request: Request, ctx: Context, plugins: list[ApiPlugin], body: Any) -> Response:
    await ctx.journal.settle()  # so that no exchange answered before the reset lands in the emptied journal
    reset(ctx, plugins)
    return _json({"status": "reset", "apis": [p.name for p in plugins]})


def get_clock(request: Request, ctx: Context, plugins: list[ApiPlugin], body: Any) -> Response:
    return _json(clock_body(ctx))


def move_clock(request: Request, ctx: Context, plugins: list[ApiPlugin], body: dict[str, Any]) -> Response:
    if "advance" in body:
        seconds = parse_duration(body["advance"])
        now = ctx.clock.now()
        if 0 <= now + seconds <= LAST_INSTANT:
            ctx.clock.advance(seconds)
        else:
            ctx.clock.set_to(_within_range(now + seconds))
    else:
        ctx.clock.set_to(_within_range(parse_instant(body["set"])))
    return _json(clock_body(ctx))


def _within_range(instant: float) -> float:
    """A move past 1970 or 9999 stops there (the spec says so): NumericDates and ISO dates stay writable."""
    return min(max(instant, 0.0), float(LAST_INSTANT))


def reset_clock(request: Request, ctx: Context, plugins: list[ApiPlugin], body: Any) -> Response:
    ctx.clock.reset()
    return _json(clock_body(ctx))


async def list_requests(request: Request, ctx: Context, plugins: list[ApiPlugin], query: dict[str, Any]
                        ) -> Response:
    await ctx.journal.settle()
    return _json(ctx.journal.read(query.get("operation"), query.get("method"), query.get("path"),
                                  query.get("limit", 100)))


async def clear_requests(request: Request, ctx: Context, plugins: list[ApiPlugin], body: Any) -> Response:
    await ctx.journal.settle()
    return _json({"cleared": ctx.journal.clear()})


def list_faults(request: Request, ctx: Context, plugins: list[ApiPlugin], query: Any) -> Response:
    return _json(ctx.faults.listed())


def arm_fault(request: Request, ctx: Context, plugins: list[ApiPlugin], fault: dict[str, Any]) -> Response:
    from starlette.responses import JSONResponse

    return JSONResponse(ctx.faults.arm(fault), status_code=201)


def clear_faults(request: Request, ctx: Context, plugins: list[ApiPlugin], body: Any) -> Response:
    return _json({"cleared": ctx.faults.clear()})


HANDLERS: dict[str, Handler] = {
    "getHealth": get_health, "resetState": reset_state, "getClock": get_clock, "moveClock": move_clock,
    "resetClock": reset_clock, "listRequests": list_requests, "clearRequests": clear_requests,
    "listFaults": list_faults, "armFault": arm_fault, "clearFaults": clear_faults, "revokeTokens": revoke_tokens,
    "rotateKeys": rotate_keys, "retireKeys": retire_keys, "listRefreshFailures": list_refresh_failures,
    "failRefreshes": fail_refreshes, "clearRefreshFailures": clear_refresh_failures,
}


def problem(status: int, title: str, detail: str) -> Response:
    from starlette.responses import JSONResponse

    return JSONResponse({"type": "about:blank", "title": title, "status": status, "detail": detail},
                        status_code=status, media_type="application/problem+json")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _read_query(request: Request, operation: dict[str, Any]) -> dict[str, Any]:
    """The operation's query parameters, typed and checked against their schemas."""
    values: dict[str, Any] = {}
    for parameter in operation.get("parameters", []):
        name, schema = parameter["name"], parameter.get("schema", {})
        if parameter.get("in") != "query" or name not in request.query_params:
            continue
        raw: Any = request.query_params[name]
        if schema.get("type") == "integer":
            try:
                raw = int(raw)
            except ValueError:
                raise AdminError(f"{name}: {raw!r} is not an integer") from None
        _check(schema, raw, name)
        values[name] = raw
    return values


def _check(schema: dict[str, Any], value: Any, where: str = "") -> None:
    from jsonschema import Draft4Validator
    from jsonschema.exceptions import best_match

    error = best_match(Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER).iter_errors(value))
    if error is not None:
        where = "/".join([where, *(str(part) for part in error.absolute_path)]).strip("/")
        raise AdminError(f"{where + ': ' if where else ''}{error.message}")


async def _read_input(request: Request, operation: dict[str, Any], spec: dict[str, Any]) -> Any:
    request_body = resolve_refs(operation.get("requestBody"), spec)
    if not request_body:
        return _read_query(request, operation)
    raw = await request.body()
    if not raw.strip():
        if not request_body.get("required"):
            return {}
        raise AdminError("the request needs a JSON body")
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise AdminError("the body must be application/json")
    try:
        body = json.loads(raw, parse_constant=_no_constant)
    except ValueError as exc:
        raise AdminError(f"the body is not JSON: {exc}") from None
    _check(request_body["content"]["application/json"]["schema"], body)
    return body


def admin_routes(ctx: Context, plugins: list[ApiPlugin]) -> list[Any]:
    """Starlette routes of every admin operation, its published spec and its Swagger UI."""
    from starlette.routing import Route

    from harness.published import spec_route_endpoints, ui_routes_for

    published = admin_spec(plugins)
    spec = resolve_refs(published, published)
    routes: list[Any] = []
    for path, item in spec["paths"].items():
        operations = {method.upper(): item[method] for method in HTTP_METHODS if method in item}

        def endpoint(operations: dict[str, dict[str, Any]] = operations) -> Callable[..., Awaitable[Response]]:
            async def answer(request: Request) -> Response:
                operation = operations[request.method]
                try:
                    body = await _read_input(request, operation, spec)
                    result = HANDLERS[operation["operationId"]](request, ctx, plugins, body)
                except AdminError as exc:
                    return problem(400, "Bad Request", str(exc))
                return await result if isinstance(result, Awaitable) else result

            return answer

        routes.append(Route(PREFIX + path, endpoint(), methods=list(operations)))
    as_json, as_yaml = spec_route_endpoints(lambda: published, PREFIX)
    routes += [Route(f"{PREFIX}/openapi.json", as_json, methods=["GET"]),
               Route(f"{PREFIX}/openapi.yaml", as_yaml, methods=["GET"]), *ui_routes_for(PREFIX, TITLE, "admin")]
    return routes
