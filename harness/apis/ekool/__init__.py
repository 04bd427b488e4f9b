"""eKool reference behaviour: Laravel Passport / league/oauth2-server 8 authorization server with login and
consent pages, and the resource API (reference/ekool-oauth2.md, seeds/002_e54ad929c1948203.txt).

The request wrapper and the error bodies are imported on first use: `harness serve` initialises the state
from the plugin (DDL, seed, keys, banner) without importing connexion."""

from __future__ import annotations

from harness.apis import ApiPlugin, lazy
from harness.apis.ekool import demo

ACCESS_KID = "ekool-access"  # harness.apis.ekool.tokens signs access tokens with it


PLUGIN = ApiPlugin(
    name="ekool",
    base_paths=("",),
    owns=lazy("harness.apis.ekool.problems:owns"),
    ddl=demo.DDL,
    seed=demo.seed,
    key_ids=(ACCESS_KID,),
    wrap=lazy("harness.apis.ekool.wire:as_league_sees_it"),
    error_response=lazy("harness.apis.ekool.problems:error_response"),
    banner=demo.banner,
    links=demo.links,
    fast_operations=tuple(f"harness.apis.ekool.resources.{name}" for name in (
        "general_data", "user_basic", "user_roles", "user_schools", "user_children")),
)
