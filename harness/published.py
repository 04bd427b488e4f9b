"""The specs as the server publishes them at `<docs>/openapi.json` and `<docs>/openapi.yaml`, and the Swagger UI
at `<docs>/ui/` that loads them.

What a reader gets is the contract file as written (operation ids, `$ref`s, descriptions; no Python names:
the functions connexion needs are attached to another copy, `harness.specs.runtime_spec`), with the server the
client actually reached first in every servers list, so Swagger UI's "Try it out" goes where the page came from.

The UI is served here too, from the `swagger-ui-bundle` assets connexion itself uses, rather than by connexion's
Swagger UI middleware: that middleware routes every API request through its docs routes first (about a tenth
of the time of a fast-path request), and it would load connexion's copy of the spec.
"""

from __future__ import annotations

import copy
import html
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import yaml

from harness.specs import load_spec

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from harness.plugins import ApiPlugin


def reached_origin(request: Request) -> str:
    """`scheme://host[:port]` the client used, as a proxy in front tells it (`X-Forwarded-*`) or as it came."""
    headers = request.headers
    scheme = headers.get("x-forwarded-proto", "").split(",")[0].strip() or request.url.scheme
    host = headers.get("x-forwarded-host", "").split(",")[0].strip() or headers.get("host") or request.url.netloc
    return f"{scheme}://{host}"


def published_spec(plugin: ApiPlugin, origin: str) -> dict[str, Any]:
    return with_reached_server(load_spec(plugin.name), origin, plugin.base_paths[0])


def with_reached_server(spec: dict[str, Any], origin: str, base_path: str) -> dict[str, Any]:
    """`spec` with the server the client reached first in its servers list and in every path's."""
    here = {"url": origin + base_path, "description": "This server (the address you reached)"}
    servers = [server for server in spec.get("servers", []) if server.get("url") != base_path]
    spec["servers"] = [here, *servers]
    for item in spec.get("paths", {}).values():
        if "servers" in item:
            item["servers"] = [{"url": origin, "description": here["description"]}, *item["servers"]]
    return spec


def spec_endpoints(plugin: ApiPlugin) -> tuple[Any, Any]:
    """Starlette endpoints for openapi.json and openapi.yaml of one API."""
    return _endpoints(lambda origin: published_spec(plugin, origin))


def spec_route_endpoints(spec: Callable[[], dict[str, Any]], base_path: str) -> tuple[Any, Any]:
    """The same for a spec of the server's own (the admin API), whose relative server is `base_path`."""
    return _endpoints(lambda origin: with_reached_server(copy.deepcopy(spec()), origin, base_path))


def _endpoints(document: Callable[[str], dict[str, Any]]) -> tuple[Any, Any]:
    from starlette.responses import Response

    async def as_json(request: Request) -> Response:
        body = json.dumps(document(reached_origin(request)), ensure_ascii=False, default=str)
        return Response(body, media_type="application/json")

    async def as_yaml(request: Request) -> Response:
        body = yaml.safe_dump(document(reached_origin(request)), sort_keys=False, allow_unicode=True)
        return Response(body, media_type="text/yaml")

    return as_json, as_yaml


_UI_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>{title} — Swagger UI</title>
  <link rel="stylesheet" type="text/css" href="./swagger-ui.css">
  <link rel="icon" type="image/png" href="./favicon-32x32.png" sizes="32x32">
  <style>html {{ box-sizing: border-box; overflow-y: scroll; }} *, *:before, *:after {{ box-sizing: inherit; }}
  body {{ margin: 0; background: #fafafa; }}</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="./swagger-ui-bundle.js" charset="UTF-8"></script>
  <script src="./swagger-ui-standalone-preset.js" charset="UTF-8"></script>
  <script>
    window.onload = function () {{
      window.ui = SwaggerUIBundle({{
        url: {spec_url},
        validatorUrl: null,
        dom_id: "#swagger-ui",
        deepLinking: true,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        plugins: [SwaggerUIBundle.plugins.DownloadUrl],
        layout: "StandaloneLayout"
      }});
    }};
  </script>
</body>
</html>
"""


def ui_routes(plugin: ApiPlugin) -> list[Any]:
    """Starlette routes of one API's Swagger UI: `<docs>/ui` (redirect), `<docs>/ui/`, its static assets."""
    title = load_spec(plugin.name).get("info", {}).get("title", plugin.name)
    return ui_routes_for(plugin.docs_prefix, title, plugin.name)


def ui_routes_for(docs_prefix: str, title: str, name: str) -> list[Any]:
    """Swagger UI at `<docs_prefix>/ui/` for the spec at `<docs_prefix>/openapi.json`."""
    from starlette.responses import HTMLResponse, RedirectResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    ui = f"{docs_prefix}/ui"
    escaped = html.escape(title)

    async def page(request: Request) -> Response:
        spec_url = json.dumps(f"{request.scope.get('root_path', '')}{docs_prefix}/openapi.json")
        return HTMLResponse(_UI_PAGE.format(title=escaped, spec_url=spec_url.replace("</", "<\\/")))

    async def redirect(request: Request) -> Response:
        return RedirectResponse(f"{request.scope.get('root_path', '')}{ui}/")

    return [Route(ui, redirect, methods=["GET"]), Route(f"{ui}/", page, methods=["GET"]),
            Route(f"{ui}/index.html", page, methods=["GET"]),
            Mount(ui, app=StaticFiles(directory=str(swagger_ui_path)), name=f"{name}-swagger-ui")]
