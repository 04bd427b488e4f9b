"""eKool reference behaviour: Laravel Passport / league/oauth2-server 8 authorization server with login and
consent pages, and the resource API (reference/ekool-oauth2.md, seeds/002_e54ad929c1948203.txt).

The request wrapper and the error bodies are imported on first use: `harness serve` initialises the state
from the plugin (DDL, seed, keys, banner) without importing connexion."""

from __future__ import annotations

from typing import Any

from harness.apis import ApiPlugin
from harness.apis.ekool import demo
from harness.runtime import Context

ACCESS_KID = "ekool-access"  # harness.apis.ekool.tokens signs access tokens with it


def _owns(path: str) -> bool:
    from harness.apis.ekool.problems import owns

    return owns(path)


def _error_response(request: Any, exc: Exception) -> Any:
    from harness.apis.ekool.problems import error_response

    return error_response(request, exc)


def _wrap(app: Any, ctx: Context) -> Any:
    from harness.apis.ekool.wire import as_league_sees_it

    return as_league_sees_it(app, ctx)


PLUGIN = ApiPlugin(
    name="ekool",
    base_paths=("",),
    owns=_owns,
    ddl=demo.DDL,
    seed=demo.seed,
    key_ids=(ACCESS_KID,),
    wrap=_wrap,
    error_response=_error_response,
    banner=demo.banner,
    links=demo.links,
)
