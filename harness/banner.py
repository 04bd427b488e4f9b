"""The `harness serve` start banner: every URL, the demo credentials, the state location."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from harness.plugins import ApiPlugin
    from harness.runtime import Context
    from harness.server import HarnessApp


def banner_lines(application: HarnessApp) -> list[str]:
    return state_banner_lines(application.ctx, application.plugins)


def state_banner_lines(ctx: Context, plugins: Sequence[ApiPlugin]) -> list[str]:
    """The banner from the state alone (no app needed: the parent of `--workers N` never builds one)."""

    base = ctx.settings.public_base_url
    lines = [f"Harness listening on {base}  ({ctx.store.describe()})", f"  landing page   {base}/",
             f"  JWKS           {base}/.well-known/jwks.json"]
    for plugin in plugins:
        mounts = ", ".join(f"{base}{bp or '/'}" for bp in plugin.base_paths)
        lines.append(f"  {plugin.name:<14} {mounts}   docs: {base}{plugin.docs_prefix}/ui/")
    settings = ctx.settings
    source = " + ".join(["demo"] * settings.include_demo + [settings.config_file] * bool(settings.config_file))
    for plugin in plugins:
        extra = plugin.banner(ctx)
        if extra:
            lines.append(f"{plugin.name} data ({source or 'empty'}):")
            lines.extend(f"  {line}" for line in extra)
    return lines


def print_banner(console: Console, ctx: Context, plugins: Sequence[ApiPlugin]) -> None:
    for line in state_banner_lines(ctx, plugins):
        console.print(line, highlight=False, markup=False)
