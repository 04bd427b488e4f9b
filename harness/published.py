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
from urllib.parse import urlsplit

import yaml

from harness.plugins import SwaggerUiSetup
from harness.runtime import SCOPE_KEY
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
    """`spec` with the server the client reached first in its servers list and in every path's, after it the
    documented remote hosts (the spec's entries for a local server are this one, so they go), and its OAuth
    flows' URLs on this server: Swagger UI's Authorize then logs in here, not at the real system."""
    here = "This server (the address you reached)"
    spec["servers"] = [{"url": origin + base_path, "description": here}, *_remote(spec.get("servers", []))]
    for item in spec.get("paths", {}).values():
        if "servers" in item:
            item["servers"] = [{"url": origin, "description": here}, *_remote(item["servers"])]
    for scheme in spec.get("components", {}).get("securitySchemes", {}).values():
        for flow in scheme.get("flows", {}).values():
            for key in ("authorizationUrl", "tokenUrl", "refreshUrl"):
                if key in flow:
                    flow[key] = origin + urlsplit(flow[key]).path
    return spec


_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _remote(servers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The servers on another machine: not relative (connexion's `""`, a base path) and not loopback."""
    return [server for server in servers
            if urlsplit(server.get("url", "")).hostname not in (None, *_LOCAL_HOSTS)]


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
  body {{ margin: 0; background: #fafafa; }}
  #harness-bar {{ font: 14px system-ui, sans-serif; background: #1d2733; color: #fff; padding: .5rem 1.2rem; }}
  #harness-bar a {{ color: #8fd3f4; }} #harness-bar button {{ margin-left: .4rem; padding: .2rem .6rem;
  border: 0; border-radius: .3rem; background: #00a3e0; color: #fff; cursor: pointer; }}
  #harness-bar .done {{ background: #2e7d32; }}</style>
</head>
<body>
  <div id="harness-bar"><a href="{landing}">← harness landing page</a>{bar}</div>
  <div id="swagger-ui"></div>
  <script src="./swagger-ui-bundle.js" charset="UTF-8"></script>
  <script src="./swagger-ui-standalone-preset.js" charset="UTF-8"></script>
  <script>
    const setup = {setup};
    function useBearer(index) {{
      const [label, scheme, token] = setup.bearers[index];
      window.ui.preauthorizeApiKey(scheme, token);
      document.querySelectorAll("[data-bearer]").forEach(b => b.classList.toggle("done", b.dataset.bearer == index));
    }}
    window.onload = function () {{
      window.ui = SwaggerUIBundle({{
        url: setup.specUrl,
        validatorUrl: null,
        dom_id: "#swagger-ui",
        deepLinking: true,
        oauth2RedirectUrl: window.location.origin + setup.redirectPath,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        plugins: [SwaggerUIBundle.plugins.DownloadUrl],
        layout: "StandaloneLayout",
        onComplete: () => {{ if (setup.bearers.length) useBearer(0); }}
      }});
      if (setup.initOAuth) window.ui.initOAuth(setup.initOAuth);
    }};
  </script>
</body>
</html>
"""


UiSetup = Callable[["Request"], SwaggerUiSetup]


def ui_routes(plugin: ApiPlugin) -> list[Any]:
    """Starlette routes of one API's Swagger UI: `<docs>/ui` (redirect), `<docs>/ui/`, its static assets."""
    title = load_spec(plugin.name).get("info", {}).get("title", plugin.name)
    setup: UiSetup | None = None
    if plugin.swagger_ui is not None:
        hook = plugin.swagger_ui

        def setup(request: Request) -> SwaggerUiSetup:
            return hook(request.scope[SCOPE_KEY], reached_origin(request))

    return ui_routes_for(plugin.docs_prefix, title, plugin.name, setup)


def ui_routes_for(docs_prefix: str, title: str, name: str, setup: UiSetup | None = None) -> list[Any]:
    """Swagger UI at `<docs_prefix>/ui/` for the spec at `<docs_prefix>/openapi.json`, set up by `setup`."""
    from starlette.responses import HTMLResponse, RedirectResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    ui = f"{docs_prefix}/ui"

    async def page(request: Request) -> Response:
        root = request.scope.get("root_path", "")
        done = setup(request) if setup is not None else SwaggerUiSetup()
        script = _script_json(_page_setup(done, root, ui, docs_prefix))
        return HTMLResponse(_UI_PAGE.format(title=html.escape(title), landing=html.escape(f"{root}/"),
                                            bar=_bar(done), setup=script))

    async def redirect(request: Request) -> Response:
        return RedirectResponse(f"{request.scope.get('root_path', '')}{ui}/")

    return [Route(ui, redirect, methods=["GET"]), Route(f"{ui}/", page, methods=["GET"]),
            Route(f"{ui}/index.html", page, methods=["GET"]),
            Mount(ui, app=StaticFiles(directory=str(swagger_ui_path)), name=f"{name}-swagger-ui")]


def _page_setup(setup: SwaggerUiSetup, root: str, ui: str, docs_prefix: str) -> dict[str, Any]:
    return {"specUrl": f"{root}{docs_prefix}/openapi.json", "redirectPath": f"{root}{ui}/oauth2-redirect.html",
            "initOAuth": dict(setup.init_oauth) if setup.init_oauth else None,
            "bearers": [list(bearer) for bearer in setup.bearers]}


def _bar(setup: SwaggerUiSetup) -> str:
    parts = [f' · <span id="harness-notice">{html.escape(setup.notice)}</span>'] if setup.notice else []
    if setup.bearers:
        buttons = "".join(f'<button type="button" data-bearer="{index}" onclick="useBearer({index})">'
                          f"{html.escape(label)}</button>" for index, (label, _, _) in enumerate(setup.bearers))
        parts.append(f' · Authorize with a demo Bearer:{buttons}')
    return "".join(parts)


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value).replace("<", "\\u003c")
