"""The landing page at `/`: links to each API's Swagger UI, spec, JWKS, login page and demo data."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from starlette.responses import HTMLResponse

if TYPE_CHECKING:
    from harness.plugins import ApiPlugin
    from harness.runtime import Context


def render_landing(ctx: Context, plugins: list[ApiPlugin]) -> HTMLResponse:
    from harness.specs import load_spec

    items = []
    for plugin in plugins:
        docs = plugin.docs_prefix
        links = f'<a href="{docs}/ui/">Swagger UI</a> · <a href="{docs}/openapi.json">openapi.json</a>'
        links += "".join(
            f' · <a href="{html.escape(href)}">{html.escape(label)}</a>' for label, href in plugin.links(ctx)
        )
        lines = "".join(f"<li>{html.escape(line)}</li>" for line in plugin.banner(ctx))
        title = load_spec(plugin.name)["info"]["title"]
        items.append(f"<section><h2>{html.escape(title)}</h2><p>{links}</p><ul>{lines}</ul></section>")
    body = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Sunbird &amp; eKool harness</title></head>"
        "<body><h1>Sunbird &amp; eKool contract harness</h1>"
        "<p><a href='/.well-known/jwks.json'>JWKS</a> · <a href='/__harness/health'>health</a></p>"
        + "".join(items)
        + "</body></html>"
    )
    return HTMLResponse(body)
