"""Sunbird API Manager reference behaviour: Kong-like gateway, register v1/v2, refresh, realm stand-in.

reference/sunbird-api-manager.md describes the two layers this package reproduces; `openapi/sunbird.yaml`
is the contract. The spec is served at `/api` and at the bare root.

The gateway and the error bodies are imported on first use: `harness serve` initialises the state from the
plugin (DDL, seed, keys, banner) without importing connexion.
"""

from __future__ import annotations

from typing import Any

from harness.apis import ApiPlugin
from harness.apis.sunbird import demo
from harness.runtime import Context


def _banner(ctx: Context) -> list[str]:
    return demo.banner_lines()


def _owns(path: str) -> bool:
    from harness.apis.sunbird.errors import owns

    return owns(path)


def _error_response(request: Any, exc: Exception) -> Any:
    from harness.apis.sunbird.errors import error_response

    return error_response(request, exc)


def _wrap(app: Any, ctx: Context) -> Any:
    from harness.apis.sunbird.gateway import wrap

    return wrap(app, ctx)


PLUGIN = ApiPlugin(
    name="sunbird",
    base_paths=("/api", ""),
    owns=_owns,
    ddl=demo.DDL,
    seed=demo.seed,
    key_ids=demo.key_ids(),
    wrap=_wrap,
    error_response=_error_response,
    banner=_banner,
)
