"""The landing page at `/`: links to each API's Swagger UI, spec, JWKS, login page and demo data, the admin API,
the server's clock, the armed faults and refresh failures, and the latest entries of the request journal."""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

from starlette.responses import HTMLResponse

if TYPE_CHECKING:
    from harness.plugins import ApiPlugin
    from harness.runtime import Context


def render_landing(ctx: Context, plugins: list[ApiPlugin]) -> HTMLResponse:
    from harness.admin import clock_body
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
        "<p><a href='/.well-known/jwks.json'>JWKS</a> · <a href='/__harness/health'>health</a>"
        " · <a href='/__harness/ui/'>admin API</a> · <a href='/__harness/requests'>request journal</a></p>"
        + _clock_line(clock_body(ctx))
        + _faults_line(ctx.faults.listed())
        + _refresh_failures_line(ctx.triggers.armed())
        + _journal_section(ctx.journal.read(None, None, None, JOURNAL_ENTRIES))
        + "".join(items)
        + "</body></html>"
    )
    return HTMLResponse(body)


JOURNAL_ENTRIES = 10


def _refresh_failures_line(armed: dict[str, int]) -> str:
    if not armed:
        return ""
    listed = ", ".join(f"{html.escape(name)}: {count}" for name, count in armed.items())
    return f"<p id='refresh-failures'>Refreshes set to fail (<a href='/__harness/refresh-failures'>" \
           f"/__harness/refresh-failures</a>): {listed}</p>"


def _journal_section(entries: list[dict[str, Any]]) -> str:
    link = "<a href='/__harness/requests'>/__harness/requests</a>"
    if not entries:
        return f"<p id='journal'>No API requests yet ({link}).</p>"
    rows = "".join(
        f"<tr><td>{html.escape(entry['method'])}</td><td><code>{html.escape(entry.get('url', entry['path']))}</code>"
        f"</td><td>{html.escape(entry['operation'] or '')}</td><td>{entry['status'] or 'dropped'}</td></tr>"
        for entry in entries)
    return (f"<section id='journal'><p>Latest API requests, newest first ({link}):</p><table>"
            f"<tr><th>method</th><th>path</th><th>operation</th><th>status</th></tr>{rows}</table></section>")


def _clock_line(clock: dict[str, Any]) -> str:
    moved = "real time" if clock["offset_seconds"] == 0 else f"moved by {clock['offset_seconds']:+.0f} s"
    return (f"<p id='clock'>Server clock: <time>{html.escape(clock['now'])}</time> ({moved}; "
            "<a href='/__harness/clock'>/__harness/clock</a>)</p>")


def _faults_line(faults: list[dict[str, Any]]) -> str:
    if not faults:
        return "<p id='faults'>No faults armed (<a href='/__harness/faults'>/__harness/faults</a>).</p>"
    items = "".join(f"<li><code>{html.escape(json.dumps(f['fault']))}</code>: fired {f['fired']}, "
                    f"{'until cleared' if f['remaining'] is None else str(f['remaining']) + ' left'}</li>"
                    for f in faults)
    link = "<a href='/__harness/faults'>/__harness/faults</a>"
    return f"<section id='faults'><p>Armed faults ({link}):</p><ul>{items}</ul></section>"
