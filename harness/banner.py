"""The `harness serve` start banner: every URL, the demo credentials, the state location."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from harness.server import HarnessApp


def banner_lines(application: HarnessApp) -> list[str]:
    from harness.server import docs_prefix

    ctx = application.ctx
    base = ctx.settings.base_url
    lines = [f"Harness listening on {base}  (state: {ctx.store.state_dir})", f"  landing page   {base}/",
             f"  JWKS           {base}/.well-known/jwks.json"]
    for plugin in application.plugins:
        mounts = ", ".join(f"{base}{bp or '/'}" for bp in plugin.base_paths)
        lines.append(f"  {plugin.name:<14} {mounts}   docs: {base}{docs_prefix(plugin)}/ui/")
    for plugin in application.plugins:
        extra = plugin.banner(ctx)
        if extra:
            lines.append(f"{plugin.name} demo data:")
            lines.extend(f"  {line}" for line in extra)
    return lines


def print_banner(console: Console, application: HarnessApp) -> None:
    for line in banner_lines(application):
        console.print(line, highlight=False, markup=False)
