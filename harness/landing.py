"""The landing page at `/`: what this server is, and per API what to try first, its base URLs, every demo
credential and ready-made values (Bearers, whole login URLs, curl commands) with copy buttons, and links to its
Swagger UI, specs and keys; then the server's clock, armed faults and refresh failures, and the latest journal
entries. Each API's part is its plugin's `landing` (`harness.plugins.Landing`); the page reads without JavaScript,
which only adds the copy buttons."""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

from starlette.responses import HTMLResponse

from harness.plugins import Landing, Shown

if TYPE_CHECKING:
    from harness.plugins import ApiPlugin
    from harness.runtime import Context

JOURNAL_ENTRIES = 10

STYLE = """
body { font-family: system-ui, sans-serif; background: #f2f5f8; color: #1d2733; margin: 0; line-height: 1.45; }
header { background: #1d2733; color: #fff; padding: 1.2rem 2rem; }
header h1 { margin: 0 0 .3rem; font-size: 1.5rem; } header p { margin: .2rem 0; color: #c9d3de; }
header a, nav a { color: #8fd3f4; }
nav { background: #26323f; padding: .5rem 2rem; } nav a { margin-right: 1.2rem; }
main { max-width: 68rem; margin: 1.5rem auto; padding: 0 1rem; }
section.card { background: #fff; padding: 1.2rem 1.6rem; border-radius: .5rem; margin-bottom: 1.5rem;
               box-shadow: 0 1px 4px rgba(0, 0, 0, .12); }
h2 { margin: 0 0 .4rem; font-size: 1.3rem; } h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
ol.steps li { margin: .4rem 0; }
table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: .35rem .5rem;
        border-bottom: 1px solid #e3e8ee; vertical-align: top; } th { color: #66727f; font-weight: 600; }
td.label { width: 16rem; } td.note { color: #66727f; font-size: .85rem; width: 14rem; }
code { font-family: ui-monospace, monospace; font-size: .85rem; } code.value { word-break: break-all; }
.copy { margin-left: .4rem; padding: .1rem .5rem; border: 0; border-radius: .3rem; background: #dde3ea;
        cursor: pointer; font-size: .75rem; } .copy.done { background: #00a3e0; color: #fff; }
.links a { margin-right: 1rem; } .mock { font-size: .8rem; color: #66727f; }
"""

COPY_SCRIPT = """
document.querySelectorAll("button.copy").forEach(button => {
  button.hidden = false;
  button.addEventListener("click", async () => {
    const text = document.getElementById(button.dataset.for).textContent;
    try { await navigator.clipboard.writeText(text); } catch (e) {
      const range = document.createRange(); range.selectNodeContents(document.getElementById(button.dataset.for));
      getSelection().removeAllRanges(); getSelection().addRange(range); document.execCommand("copy");
    }
    button.textContent = "Copied"; button.classList.add("done");
    setTimeout(() => { button.textContent = "Copy"; button.classList.remove("done"); }, 1500);
  });
});
"""


def render_landing(ctx: Context, plugins: list[ApiPlugin], origin: str) -> HTMLResponse:
    from harness.admin import clock_body

    sections = "".join(_api_section(ctx, plugin, origin) for plugin in plugins)
    anchors = "".join(f'<a href="#api-{html.escape(p.name)}">{html.escape(_title(p))}</a>' for p in plugins)
    state = (_clock_line(clock_body(ctx)) + _faults_line(ctx.faults.listed())
             + _refresh_failures_line(ctx.triggers.armed())
             + _journal_section(ctx.journal.read(None, None, None, JOURNAL_ENTRIES)))
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Sunbird &amp; eKool harness</title><style>{STYLE}</style></head><body>"
        "<header><h1>Sunbird &amp; eKool contract harness</h1>"
        f"<p>A local stand-in for both APIs at <code>{html.escape(origin)}</code>, built from their contract: real "
        "JWTs, real state, the real systems' errors. Every value below works here as shown.</p></header>"
        f"<nav>{anchors}<a href='/__harness/ui/'>admin API</a><a href='/__harness/requests'>request journal</a>"
        "<a href='/.well-known/jwks.json'>JWKS</a><a href='/__harness/health'>health</a></nav><main>"
        + sections
        + f"<section class='card' id='server'><h2>This server</h2>{state}"
        "<p class='mock'>A reference mock (harness); not the real Sunbird or eKool.</p></section>"
        f"</main><script>{COPY_SCRIPT}</script></body></html>"
    )
    return HTMLResponse(body)


def _title(plugin: ApiPlugin) -> str:
    from harness.specs import load_spec

    return str(load_spec(plugin.name)["info"]["title"])


def _api_section(ctx: Context, plugin: ApiPlugin, origin: str) -> str:
    docs = plugin.docs_prefix
    landing = plugin.landing(ctx, origin) if plugin.landing is not None else Landing(
        summary="; ".join(plugin.banner(ctx)), base_urls=tuple(origin + path for path in plugin.base_paths),
        links=(("Swagger UI", f"{docs}/ui/"), ("openapi.json", f"{docs}/openapi.json")))
    name = html.escape(plugin.name)
    steps = "".join(f"<li><strong>{_linked(title, href)}</strong>: {html.escape(text)}</li>"
                    for title, text, href in landing.steps)
    bases = tuple(Shown(f"{plugin.name}-base-{index}", "base URL" if index == 0 else "also", url)
                  for index, url in enumerate(landing.base_urls))
    parts = [f"<section class='card' id='api-{name}'><h2>{html.escape(_title(plugin))}</h2>",
             f"<p>{html.escape(landing.summary)}</p>"]
    if steps:
        parts.append(f"<h3>Try first</h3><ol class='steps'>{steps}</ol>")
    parts.append("<h3>Point an app here</h3>" + _values(bases))
    if landing.credentials:
        parts.append("<h3>Demo credentials</h3>" + _values(landing.credentials))
    if landing.ready:
        parts.append("<h3>Ready-made values</h3>" + _values(landing.ready))
    links = " ".join(_linked(label, href) for label, href in landing.links)
    parts.append(f"<p class='links'>{links}</p></section>")
    return "".join(parts)


def _linked(text: str, href: str) -> str:
    return f'<a href="{html.escape(href)}">{html.escape(text)}</a>' if href else html.escape(text)


def _values(values: tuple[Shown, ...]) -> str:
    rows = []
    for shown in values:
        key = html.escape(shown.key)
        value = f"<code class='value' id='{key}' data-key='{key}'>{html.escape(shown.value)}</code>"
        if shown.link:
            value = f'<a href="{html.escape(shown.value)}">{value}</a>'
        button = f"<button type='button' class='copy' data-for='{key}' hidden>Copy</button>"
        rows.append(f"<tr><td class='label'>{html.escape(shown.label)}</td><td>{value}{button}</td>"
                    f"<td class='note'>{html.escape(shown.note)}</td></tr>")
    return f"<table>{''.join(rows)}</table>"


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
    return (f"<div id='journal'><h3>Latest API requests, newest first ({link})</h3><table>"
            f"<tr><th>method</th><th>path</th><th>operation</th><th>status</th></tr>{rows}</table></div>")


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
    return f"<div id='faults'><p>Armed faults ({link}):</p><ul>{items}</ul></div>"
