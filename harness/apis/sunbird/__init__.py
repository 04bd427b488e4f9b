"""Sunbird API Manager reference behaviour: Kong-like gateway, register v1/v2, refresh, realm stand-in.

reference/sunbird-api-manager.md describes the two layers this package reproduces; `openapi/sunbird.yaml`
is the contract. The spec is served at `/api` and at the bare root.
"""

from __future__ import annotations

from harness.apis import ApiPlugin
from harness.apis.sunbird import demo
from harness.apis.sunbird.errors import error_response, owns
from harness.apis.sunbird.gateway import wrap
from harness.runtime import Context


def _banner(ctx: Context) -> list[str]:
    return demo.banner_lines()


PLUGIN = ApiPlugin(
    name="sunbird",
    base_paths=("/api", ""),
    owns=owns,
    ddl=demo.DDL,
    seed=demo.seed,
    key_ids=demo.key_ids(),
    wrap=wrap,
    error_response=error_response,
    banner=_banner,
)
