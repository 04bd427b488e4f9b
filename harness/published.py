"""The specs as the server publishes them at `<docs>/openapi.json` and `<docs>/openapi.yaml`.

What a reader gets is the contract file as written (operation ids, `$ref`s, descriptions; no Python names:
the functions connexion needs are attached to another copy, `harness.specs.runtime_spec`), with the server the
client actually reached first in every servers list, so Swagger UI's "Try it out" goes where the page came from.
"""

from __future__ import annotations

import json
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
    spec = load_spec(plugin.name)
    here = {"url": origin + plugin.base_paths[0], "description": "This server (the address you reached)"}
    spec["servers"] = [here, *spec.get("servers", [])]
    for item in spec.get("paths", {}).values():
        if "servers" in item:
            item["servers"] = [{"url": origin, "description": here["description"]}, *item["servers"]]
    return spec


def spec_endpoints(plugin: ApiPlugin) -> tuple[Any, Any]:
    """Starlette endpoints for openapi.json and openapi.yaml of one API."""
    from starlette.responses import Response

    async def as_json(request: Request) -> Response:
        body = json.dumps(published_spec(plugin, reached_origin(request)), ensure_ascii=False, default=str)
        return Response(body, media_type="application/json")

    async def as_yaml(request: Request) -> Response:
        body = yaml.safe_dump(published_spec(plugin, reached_origin(request)), sort_keys=False, allow_unicode=True)
        return Response(body, media_type="text/yaml")

    return as_json, as_yaml
